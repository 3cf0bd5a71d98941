// Raw softmax / log-softmax kernels over the last axis of contiguous [rows, k] data.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// y = softmax(x) per row, or log_softmax when `log`.
cudaError_t softmax_forward(ScalarType type, int64_t rows, int64_t k, const void* x, void* y,
                            bool log, cudaStream_t stream);
// gx = y * (gy - <gy, y>) (softmax) or gy - exp(y) * sum(gy) (log_softmax), from the saved y.
cudaError_t softmax_backward(ScalarType type, int64_t rows, int64_t k, const void* gy,
                             const void* y, void* gx, bool log, cudaStream_t stream);

}  // namespace fusenas::kernels
