// Raw kernels for embedding lookup (row gather) and its deterministic scatter-add backward.
#pragma once

#include <cstddef>

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// out [n, d] = weight [v, d] rows picked by indices [n]; an index outside [0, v) gives a NaN row
// (the engine checks indices separately with record_first_out_of_range).
cudaError_t embedding_forward(ScalarType type, int64_t n, int64_t v, int64_t d, const void* weight,
                              const int64_t* indices, void* out, cudaStream_t stream);

// Bytes of scratch embedding_backward needs for n indices into v rows (n < 2^31).
size_t embedding_backward_workspace(int64_t n, int64_t v);
// gweight [v, d] = 0, then gweight[indices[j]] += gy[j] in increasing j (the CPU's order): the
// indices are stably sorted, and each weight row sums its own run of positions. An index outside
// [0, v) adds nothing (rows are still exact sums of their valid positions).
cudaError_t embedding_backward(ScalarType type, int64_t n, int64_t v, int64_t d, const void* gy,
                               const int64_t* indices, void* gweight, void* workspace,
                               size_t workspace_bytes, cudaStream_t stream);

}  // namespace fusenas::kernels
