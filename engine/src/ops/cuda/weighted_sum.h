// CUDA launchers for the DARTS MixedOp weighted sum (same contract as ops/cpu/weighted_sum.h).
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void weighted_sum_forward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& out);
void weighted_sum_backward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& gy,
                           const std::vector<Tensor>& gxs, const Tensor& gweights);
}  // namespace fusenas::cuda
