// The DARTS evaluation network (EvalNetwork, no auxiliary head) as a space Network, so the
// darts-cell space builds the same network nas_train trains.
#pragma once

#include <memory>
#include <string>

#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

class CellNetwork : public Network {
 public:
  // config.auxiliary must be false: a trial is scored on the main logits only.
  CellNetwork(const EvalNetworkConfig& config, Generator& gen);
  std::string type_name() const override { return "CellNetwork"; }
  Tensor forward(const Tensor& x) override { return net_->forward(x); }
  int64_t num_parameters() const override { return net_->num_parameters(); }
  // For drop-path training (EvalNetwork::forward_full).
  EvalNetwork& eval_network() { return *net_; }

 private:
  std::shared_ptr<EvalNetwork> net_;
};

}  // namespace fusenas::nas::space
