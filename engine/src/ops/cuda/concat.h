// CUDA launchers for concatenation and its gradient split (same contract as ops/cpu/concat.h).
#pragma once

#include <cstdint>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void concat_forward(const std::vector<Tensor>& xs, int64_t axis, const Tensor& out);
void concat_backward(const Tensor& gy, int64_t axis, const std::vector<int64_t>& sizes,
                     const std::vector<Tensor>& gxs);
}  // namespace fusenas::cuda
