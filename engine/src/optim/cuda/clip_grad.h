// CUDA gradient clipping: every gradient of one dtype in a few multi-tensor launches instead of
// four launches per parameter.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
// Scales `grads` (contiguous, one dtype, on one device) so their joint L2 norm is at most
// max_norm; returns that norm before clipping (a device scalar of the grads' dtype).
Tensor clip_grad_norm(const std::vector<Tensor>& grads, double max_norm);
}  // namespace fusenas::cuda
