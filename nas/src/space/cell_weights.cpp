// Collects a composed candidate op's weights for the fused DARTS cell.
#include "fusenas/nas/space/cell_weights.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/nn/nn.h"

namespace fusenas::nas {

CellOpWeights cell_op_weights(nn::Module& op) {
  CellOpWeights w;
  for (const auto& [name, m] : op.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      FUSENAS_CHECK(!conv->bias.defined(), "fused cell: convolution '{}' has a bias", name);
      w.params.push_back(conv->weight);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m)) {
      FUSENAS_CHECK(!bn->weight.defined(), "fused cell: batch norm '{}' is affine", name);
      w.bns.push_back({bn->running_mean, bn->running_var});
    }
  }
  return w;
}

bool fusable_weights(nn::Module& op) {
  for (const auto& [name, m] : op.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m); conv && conv->bias.defined()) return false;
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m); bn && bn->weight.defined()) return false;
  }
  return true;
}

}  // namespace fusenas::nas
