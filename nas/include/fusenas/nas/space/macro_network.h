// A standalone network for one ENAS macro architecture, with its own weights: the structure of
// ENAS's shared macro child (enas::MacroSupernet) with only the chosen op per layer, so an
// architecture found by ENAS or by a black-box search can be trained from scratch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/cell_ops.h"
#include "fusenas/nas/enas/macro_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

struct MacroNetworkConfig {
  enas::MacroArch arch;
  int64_t channels = 16;  // every layer's width (even: FactorizedReduce halves it)
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  // Affine batch norms (trained from scratch, like DARTS's evaluation networks). false gives the
  // supernet's affine-free ones: then the network holds exactly the supernet weights its
  // architecture uses, under the same names less the op index, and computes the same function.
  bool affine = true;

  // Throws fusenas::Error naming the first bad value (the arch included).
  void validate() const;
};

// stem (3x3 conv to `channels`, BN) -> layers -> global average pool -> linear. Layer l applies
// its op (the supernet's candidate: ReLU-conv-BN, DARTS's twice-repeated separable conv, or a
// 3x3 pool followed by BN) to layer l-1's output (the stem's for layer 0); from layer 1 on it adds
// the outputs of the earlier layers it skips from and normalises the sum with BN, even with no
// skips. After layers L/3 - 1 and 2L/3 - 1 (enas::MacroSpace::reduces_after) the layer's output
// and every earlier output a later layer still reads are halved by a FactorizedReduce each.
class MacroNetwork : public Network {
 public:
  MacroNetwork(const MacroNetworkConfig& config, Generator& gen);
  std::string type_name() const override { return "MacroNetwork"; }
  // x [N, H, W, in_channels] -> logits [N, num_classes]. Each reduction needs an even map.
  Tensor forward(const Tensor& x) override;
  int64_t num_parameters() const override;
  const MacroNetworkConfig& config() const { return config_; }

 private:
  // Whether layer l's output is reduced after layer `after` (a later layer reads it).
  bool carried(int l, int after) const;

  MacroNetworkConfig config_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<nn::Module>> layers_;
  std::vector<std::shared_ptr<nn::BatchNorm2d>> skip_bn_;  // layer l uses skip_bn_[l - 1]
  // reductions_[l][j]: the reduction of layer j's output after layer l, null where none is needed.
  std::vector<std::vector<std::shared_ptr<FactorizedReduce>>> reductions_;
  std::shared_ptr<nn::Linear> classifier_;
};

// The parameter count of MacroNetwork(config) without building it.
int64_t macro_parameter_count(const MacroNetworkConfig& config);

}  // namespace fusenas::nas::space
