// CUDA launchers of optim/multi_tensor.h: contiguous tensors of one dtype on one device.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
Tensor sum_of_squares(const std::vector<Tensor>& xs);
void scale_(const std::vector<Tensor>& xs, const Tensor& factor);
void copy_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src);
void add_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, double alpha);
}  // namespace fusenas::cuda
