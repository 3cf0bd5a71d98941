// Conv2dGeometry: the sizes of one conv2d call, derived and validated once by the engine's op and
// passed unchanged to its CPU kernels and to the raw CUDA kernels. CUDA-free, so the CPU backend
// shares it.
#pragma once

#include <cstdint>

namespace fusenas::kernels {

// NHWC input [n, h, w, cin], weight [cout, kh, kw, cin / groups], output [n, ho, wo, cout].
struct Conv2dGeometry {
  int64_t n = 0, h = 0, w = 0, cin = 0;
  int64_t cout = 0, kh = 0, kw = 0;
  int64_t ho = 0, wo = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  constexpr int64_t cin_g() const { return cin / groups; }
  constexpr int64_t cout_g() const { return cout / groups; }
  // Each output channel reads a single input channel (groups == cin), possibly several output
  // channels per input channel (a channel multiplier).
  constexpr bool depthwise() const { return cin_g() == 1 && groups > 1; }
  // One GEMM over the input rows as they are: no window, no stride, no padding.
  constexpr bool pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

}  // namespace fusenas::kernels
