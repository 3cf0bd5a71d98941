// CUDA launchers for fused mean cross-entropy (the contract of ops/cpu/cross_entropy.h, except
// that a bad label is reported later, through cuda/index_check.h, with `bad_label`'s message).
#pragma once

#include <cstdint>

#include "cuda/index_check.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                           const Tensor& lse, IndexErrorMessage bad_label);
void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits);
}  // namespace fusenas::cuda
