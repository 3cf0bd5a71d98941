// CUDA launchers for embedding lookup and its scatter-add backward (the contract of
// ops/cpu/embedding.h, except that a bad index is reported later, through cuda/index_check.h, with
// `bad_index`'s message; its row is NaN and it adds nothing to the weight gradient).
#pragma once

#include <cstdint>

#include "cuda/index_check.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out,
                       IndexErrorMessage bad_index);
void embedding_backward(const Tensor& gy, const Tensor& indices, const Tensor& gweight);
}  // namespace fusenas::cuda
