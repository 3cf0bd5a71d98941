// Raw per-channel batch-norm kernels over contiguous [rows, c] data (the channel axis last).
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Doubles of scratch batch_norm_forward / batch_norm_backward need.
int64_t batch_norm_workspace(int64_t rows, int64_t c);

// Same contract as the CPU kernel: weight, bias, running_mean/var may be null. Training
// normalises with the batch mean and biased variance and updates the running stats in place
// (momentum, unbiased variance); eval uses the running stats. Writes save_mean and
// save_invstd = 1 / sqrt(var + eps).
cudaError_t batch_norm_forward(ScalarType type, int64_t rows, int64_t c, const void* x,
                               const void* weight, const void* bias, void* running_mean,
                               void* running_var, bool training, double momentum, double eps,
                               void* y, void* save_mean, void* save_invstd, double* workspace,
                               cudaStream_t stream);
// Writes whichever of gx, gweight, gbias are non-null; training differentiates through the batch
// statistics, eval treats mean and invstd as constants.
cudaError_t batch_norm_backward(ScalarType type, int64_t rows, int64_t c, bool training,
                                const void* gy, const void* x, const void* weight, const void* mean,
                                const void* invstd, void* gx, void* gweight, void* gbias,
                                double* workspace, cudaStream_t stream);

}  // namespace fusenas::kernels
