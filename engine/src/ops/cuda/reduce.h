// CUDA launchers for sum reductions and argmax (same contract as ops/cpu/reduce.h).
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void sum_reduce(const Tensor& x, const std::vector<bool>& reduced, const Tensor& out,
                double factor);
void argmax_last(const Tensor& x, const Tensor& out);
}  // namespace fusenas::cuda
