// Activation modules: thin wrappers over the elementwise ops.
#include "fusenas/engine/nn/activation.h"

#include "fusenas/engine/ops.h"

namespace fusenas::nn {

Tensor ReLU::forward(const Tensor& x) {
  return relu(x);
}

}  // namespace fusenas::nn
