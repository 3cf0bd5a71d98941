// CPU kernels for sum reductions and argmax.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// out (contiguous, keepdim shape) = sum of x over the axes flagged in `reduced`, times `factor`.
void sum_reduce(const Tensor& x, const std::vector<bool>& reduced, const Tensor& out,
                double factor);
// out[r] = argmax of row r of contiguous x viewed as [rows, K].
void argmax_last(const Tensor& x, const Tensor& out);

}  // namespace fusenas::cpu
