// Raw reduction kernels over contiguous [rows, cols] data, deterministic (no atomics).
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// out[r] = factor * sum_c x[r, c]
cudaError_t row_sum(ScalarType type, int64_t rows, int64_t cols, const void* x, void* out,
                    double factor, cudaStream_t stream);
// out[c] = factor * sum_r x[r, c]. `partials` must hold column_sum_partials(rows, cols) doubles.
cudaError_t column_sum(ScalarType type, int64_t rows, int64_t cols, const void* x, void* out,
                       double factor, double* partials, cudaStream_t stream);
int64_t column_sum_partials(int64_t rows, int64_t cols);
// out[r] = argmax_c x[r, c] (first maximum), as int64.
cudaError_t argmax_rows(ScalarType type, int64_t rows, int64_t cols, const void* x, int64_t* out,
                        cudaStream_t stream);

}  // namespace fusenas::kernels
