// CUDA launchers for per-channel batch norm over the last axis (same contract as
// ops/cpu/batch_norm.h).
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, bool training,
                        double momentum, double eps, const Tensor& y, const Tensor& save_mean,
                        const Tensor& save_invstd);
void batch_norm_backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& invstd, const Tensor& gx,
                         const Tensor& gweight, const Tensor& gbias);
}  // namespace fusenas::cuda
