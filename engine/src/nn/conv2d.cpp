// nn::Conv2d: argument checks, PyTorch's default initialisation, forward through ops::conv2d.
#include "fusenas/engine/nn/conv2d.h"

#include <cmath>

#include "fusenas/engine/nn/init.h"

namespace fusenas::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, KernelSize kernel,
               const Conv2dParams& params, Generator& gen, bool bias)
    : in_channels_(in_channels), out_channels_(out_channels), params_(params) {
  FUSENAS_CHECK(in_channels > 0 && out_channels > 0 && kernel.h > 0 && kernel.w > 0,
                "Conv2d: channels and kernel must be positive, got in={} out={} kernel={}x{}",
                in_channels, out_channels, kernel.h, kernel.w);
  FUSENAS_CHECK(
      params.groups > 0 && in_channels % params.groups == 0 && out_channels % params.groups == 0,
      "Conv2d: groups={} must divide in={} and out={}", params.groups, in_channels, out_channels);
  weight = register_parameter(
      "weight", Tensor::empty({out_channels, kernel.h, kernel.w, in_channels / params.groups}));
  init::kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in(weight)));
    this->bias = register_parameter("bias", Tensor::empty({out_channels}));
    init::uniform_(this->bias, -bound, bound, gen);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, params_);
}

}  // namespace fusenas::nn
