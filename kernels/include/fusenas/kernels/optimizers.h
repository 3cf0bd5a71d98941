// Raw multi-tensor optimizer updates: one launch updates many parameters (a few launches when
// there are more than fit in one kernel argument block).
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// torch.optim.SGD's rule per element: d = g + wd * p; with momentum, buf = first ? d :
// momentum * buf + (1 - dampening) * d and d = nesterov ? d + momentum * buf : buf; p -= lr * d.
// With device_lr set the kernel reads the lr from that device double instead of `lr`, so a
// launch captured into a CUDA graph follows later lr changes.
struct SgdConfig {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  const double* device_lr = nullptr;
};
struct SgdTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* momentum = nullptr;  // null without momentum
  int64_t numel = 0;
  bool first_step = false;
};
cudaError_t sgd_multi_tensor(ScalarType type, const SgdTensor* tensors, int count,
                             const SgdConfig& config, cudaStream_t stream);

// torch.optim.Adam's rule (L2 weight decay, no AMSGrad) with per-tensor bias corrections
// bc1 = 1 - beta1^step, bc2 = 1 - beta2^step: m = beta1 m + (1 - beta1) g,
// v = beta2 v + (1 - beta2) g^2, p += -(lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
// With device_lr and device_step set (both or neither) the kernel reads the lr and one step count
// shared by every tensor from those device doubles and computes the bias corrections itself, so
// a launch captured into a CUDA graph follows later lr changes and the advancing count.
struct AdamConfig {
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  const double* device_lr = nullptr;
  const double* device_step = nullptr;
};
struct AdamTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* exp_avg = nullptr;
  void* exp_avg_sq = nullptr;
  int64_t numel = 0;
  double step = 1;  // this tensor's update count including this step
};
cudaError_t adam_multi_tensor(ScalarType type, const AdamTensor* tensors, int count,
                              const AdamConfig& config, cudaStream_t stream);

// Gradient clipping over many tensors of one dtype: the sum of squares of every element (blocks
// write double partials, summed in a fixed order, so the result does not depend on scheduling)
// and an in-place scale by a device scalar.
struct GradTensor {
  void* grad = nullptr;
  int64_t numel = 0;
};
// Doubles of `partials` that sum_squares_multi_tensor needs.
int64_t sum_squares_partials(const GradTensor* tensors, int count);
// *out (T) = sum over the tensors of g^2.
cudaError_t sum_squares_multi_tensor(ScalarType type, const GradTensor* tensors, int count,
                                     double* partials, void* out, cudaStream_t stream);
// g *= *factor (T) for every tensor.
cudaError_t scale_multi_tensor(ScalarType type, const GradTensor* tensors, int count,
                               const void* factor, cudaStream_t stream);

// List copies and updates with no optimizer state (the second-order DARTS architect saves,
// shifts and restores every weight with these): dst = src, or dst += alpha * src with alpha
// rounded to T, as the per-tensor axpy does.
struct TensorPair {
  void* dst = nullptr;
  const void* src = nullptr;
  int64_t numel = 0;
};
cudaError_t copy_multi_tensor(ScalarType type, const TensorPair* pairs, int count,
                              cudaStream_t stream);
cudaError_t axpy_multi_tensor(ScalarType type, const TensorPair* pairs, int count, double alpha,
                              cudaStream_t stream);

}  // namespace fusenas::kernels
