// CPU kernels for embedding lookup (row gather) and its scatter-add backward.
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// out [n, D] = weight [V, D] rows picked by the n contiguous int64 indices. Returns the position
// of the first index outside [0, V) and writes nothing then; -1 when every index is valid.
int64_t embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out);
// gweight [V, D] = 0, then gweight[indices[j]] += gy[j] for every j (repeats accumulate).
// Overwrites all of gweight; indices were validated by the forward.
void embedding_backward(const Tensor& gy, const Tensor& indices, const Tensor& gweight);

}  // namespace fusenas::cpu
