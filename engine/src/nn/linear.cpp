// nn::Linear: PyTorch's default initialisation and a forward through ops::linear.
#include "fusenas/engine/nn/linear.h"

#include <cmath>

#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias)
    : in_features_(in_features), out_features_(out_features) {
  FUSENAS_CHECK(in_features > 0 && out_features > 0,
                "Linear: features must be positive, got in={} out={}", in_features, out_features);
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  init::kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    this->bias = register_parameter("bias", Tensor::empty({out_features}));
    init::uniform_(this->bias, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, weight, bias);
}

}  // namespace fusenas::nn
