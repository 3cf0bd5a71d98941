// CUDA launchers for embedding lookup and its scatter-add backward (same contract as
// ops/cpu/embedding.h).
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
int64_t embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out);
void embedding_backward(const Tensor& gy, const Tensor& indices, const Tensor& gweight);
}  // namespace fusenas::cuda
