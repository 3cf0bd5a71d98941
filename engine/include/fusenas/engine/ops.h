// The differentiable op set of the engine. Activations are NHWC: [N, H, W, C].
// Convolution weights are [C_out, kH, kW, C_in / groups].
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"

namespace fusenas {

// ---- Elementwise (binary ops broadcast NumPy-style) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double factor);
Tensor add_scalar(const Tensor& x, double value);
Tensor neg(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor square(const Tensor& x);
Tensor sqrt(const Tensor& x);
// min(x, max) elementwise; the gradient passes where x <= max.
Tensor clamp_max(const Tensor& x, double max);

inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
inline Tensor operator*(const Tensor& a, double s) {
  return scale(a, s);
}
inline Tensor operator*(double s, const Tensor& a) {
  return scale(a, s);
}
inline Tensor operator-(const Tensor& a) {
  return neg(a);
}

// ---- Reductions ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim = false);
Tensor sum(const Tensor& x);  // all elements, 0-d result
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim = false);
Tensor mean(const Tensor& x);
// Sums `x` down to `shape`, undoing a broadcast (used by broadcasting backward passes).
Tensor sum_to(const Tensor& x, const Shape& shape);
// Not differentiable: index of the largest entry along the last axis, as int64.
Tensor argmax_last(const Tensor& x);

// ---- Softmax and losses (over the last axis) ----
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// Mean cross-entropy of logits [N, K] against int64 labels [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

// ---- Linear algebra ----
// [M, K] x [K, N] -> [M, N]; also batched [B, M, K] x [B, K, N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x [..., in] times weight [out, in]^T plus optional bias [out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// ---- Convolution ----
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  static Conv2dParams square(int64_t stride, int64_t pad, int64_t dilation = 1,
                             int64_t groups = 1) {
    return {stride, stride, pad, pad, dilation, dilation, groups};
  }
};
// x [N, H, W, C_in], weight [C_out, kH, kW, C_in/groups], optional bias [C_out].
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);

// ---- Pooling (NHWC) ----
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
// count_include_pad=false divides by the number of in-bounds elements only.
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool count_include_pad = false);
// [N, H, W, C] -> [N, C]
Tensor global_avg_pool(const Tensor& x);

// ---- Normalisation ----
// Per-channel (last axis) batch norm. weight/bias may be undefined (affine=false).
// running_mean/var may be undefined; when training they are updated in place with `momentum`
// (PyTorch convention: new = (1 - momentum) * old + momentum * batch, unbiased batch variance).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);

// ---- Structural ----
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
// DARTS `none`: zeros shaped like x subsampled by `stride` on H and W (x[:, ::s, ::s, :] * 0).
Tensor zero_op(const Tensor& x, int64_t stride);

// ---- Regularisers ----
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);
// Zeroes whole samples (axis 0) with probability p and scales survivors by 1/(1-p).
Tensor drop_path(const Tensor& x, double p, bool training, Generator& gen);

// ---- Lookup ----
// weight [V, D], int64 indices of any shape -> [..., D]
Tensor embedding(const Tensor& weight, const Tensor& indices);

// ---- DARTS MixedOp form ----
// sum_i weights[i] * xs[i], differentiable in every xs[i] and in weights [N].
Tensor weighted_sum(const std::vector<Tensor>& xs, const Tensor& weights);

}  // namespace fusenas
