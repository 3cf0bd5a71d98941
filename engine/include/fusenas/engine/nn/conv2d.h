// nn::Conv2d: NHWC convolution with weights [C_out, kH, kW, C_in/groups].
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nn {

// A square kernel from one number, or {kh, kw}.
struct KernelSize {
  int64_t h, w;
  KernelSize(int64_t k) : h(k), w(k) {}  // NOLINT: implicit on purpose, Conv2d(c, c, 3, ...)
  KernelSize(int64_t kh, int64_t kw) : h(kh), w(kw) {}
};

class Conv2d : public Module {
 public:
  // weight (and bias when asked) drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
  // fan_in = kH*kW*C_in/groups (PyTorch's default), weight first.
  Conv2d(int64_t in_channels, int64_t out_channels, KernelSize kernel, const Conv2dParams& params,
         Generator& gen, bool bias = false);

  std::string type_name() const override { return "Conv2d"; }
  // x [N, H, W, C_in] -> [N, H', W', C_out]
  Tensor forward(const Tensor& x) override;

  const Conv2dParams& params() const { return params_; }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }

  Tensor weight;
  Tensor bias;  // undefined without bias

 private:
  int64_t in_channels_, out_channels_;
  Conv2dParams params_;
};

}  // namespace fusenas::nn
