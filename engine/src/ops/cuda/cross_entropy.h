// CUDA launchers for fused mean cross-entropy (same contract as ops/cpu/cross_entropy.h).
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
int64_t cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                              const Tensor& lse);
void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits);
}  // namespace fusenas::cuda
