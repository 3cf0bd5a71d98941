// CPU kernels for per-channel batch norm over the last axis, forward and backward.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// x and y contiguous, viewed as [rows, C]; weight, bias, running stats, save_mean and
// save_invstd are contiguous [C] of x's dtype, and weight/bias may be undefined (affine=false).
// Training: normalises with the batch mean and biased variance, writes them to save_mean and
// save_invstd = 1/sqrt(var + eps), and, when defined, updates running_mean/var in place
// (new = (1 - momentum) * old + momentum * batch, unbiased variance); needs rows > 1.
// Eval: normalises with the running stats (both defined) and writes them to save_mean/invstd.
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, bool training,
                        double momentum, double eps, const Tensor& y, const Tensor& save_mean,
                        const Tensor& save_invstd);

// gy, x, gx contiguous [rows, C]; mean/invstd are save_mean/save_invstd from the forward.
// Writes whichever of gx, gweight, gbias ([C]) are defined. Training differentiates through the
// batch statistics; eval treats mean and invstd as constants.
void batch_norm_backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& invstd, const Tensor& gx,
                         const Tensor& gweight, const Tensor& gbias);

}  // namespace fusenas::cpu
