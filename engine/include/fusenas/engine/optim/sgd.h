// optim::SGD: torch.optim.SGD's update with momentum, dampening, Nesterov and L2 weight decay.
#pragma once

#include "fusenas/engine/optim/optimizer.h"

namespace fusenas::optim {

struct SGDOptions {
  double momentum = 0;
  double weight_decay = 0;
  bool nesterov = false;
  double dampening = 0;
};

class SGD : public Optimizer {
 public:
  // Per stepping parameter: d = g + wd*p; with momentum, buf = d on its first step and
  // momentum*buf + (1-dampening)*d after, then d = nesterov ? d + momentum*buf : buf;
  // p -= lr*d. State "momentum_buffer" per parameter (only with momentum).
  SGD(std::vector<Tensor> params, double lr, double momentum = 0, double weight_decay = 0,
      bool nesterov = false, double dampening = 0);
  SGD(std::vector<Tensor> params, double lr, const SGDOptions& options);

  void step() override;
  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
};

}  // namespace fusenas::optim
