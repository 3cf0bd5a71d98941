// Host 2-D convolution math behind the cuDNN stand-in: forward, backward data, backward filter.
#pragma once

#include <array>
#include <cstdint>

namespace fusenas::emu {

// Element strides of a 4-D array, in the order of its dims: (n, c, h, w) for activations,
// (k, c, r, s) for filters. Any layout (NCHW, NHWC, KCRS, KRSC, padded) is just a stride choice.
using Strides4 = std::array<int64_t, 4>;

// One convolution, validated: sizes agree and the output shape follows from the rest.
struct ConvGeometry {
  int64_t n = 0, cin = 0, h = 0, w = 0;  // input
  int64_t cout = 0, kh = 0, kw = 0;      // filter: [cout, cin / groups, kh, kw]
  int64_t ho = 0, wo = 0;                // output
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t groups = 1;
  bool flip = false;  // true convolution (CUDNN_CONVOLUTION): filter taps are reversed
  Strides4 x_strides{}, w_strides{}, y_strides{};  // also those of dx, dw and dy

  int64_t cin_per_group() const { return cin / groups; }
  int64_t cout_per_group() const { return cout / groups; }
};

// out = alpha * result + beta * out; beta == 0 never reads out, so stale NaNs vanish.
struct Scaling {
  double alpha = 1.0;
  double beta = 0.0;
};

// y = conv(x, w). T is float or double; sums are accumulated in double.
template <typename T>
void conv_forward(const ConvGeometry& g, Scaling scaling, const T* x, const T* w, T* y);

// dx = the adjoint of conv_forward in x, applied to dy.
template <typename T>
void conv_backward_data(const ConvGeometry& g, Scaling scaling, const T* w, const T* dy, T* dx);

// dw = the adjoint of conv_forward in w, applied to dy.
template <typename T>
void conv_backward_filter(const ConvGeometry& g, Scaling scaling, const T* x, const T* dy, T* dw);

}  // namespace fusenas::emu
