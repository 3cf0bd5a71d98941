// Operations over a whole list of tensors (gradients, weight updates): on CUDA a few multi-tensor
// launches instead of one or more per tensor; on the CPU the per-tensor ops, rounding included.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::optim {

// The sum over every tensor of x^2: a 0-d tensor of their dtype on their device (nothing is read
// back). On CUDA the squares accumulate in double in a fixed order. `xs` must not be empty.
Tensor sum_of_squares(const std::vector<Tensor>& xs);

// x *= factor for every x; `factor` is a 0-d tensor of the same dtype on the same device.
void scale_(const std::vector<Tensor>& xs, const Tensor& factor);

// dst[i] = src[i] for every i; the lists pair tensors of equal shapes.
void copy_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src);

// dst[i] += alpha * src[i] for every i.
void add_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, double alpha);

// A detached copy of every tensor.
std::vector<Tensor> clone(const std::vector<Tensor>& xs);

}  // namespace fusenas::optim
