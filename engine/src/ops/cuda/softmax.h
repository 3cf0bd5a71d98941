// CUDA launchers for softmax and log-softmax over the last axis (same contract as
// ops/cpu/softmax.h).
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void softmax_forward(const Tensor& x, const Tensor& y, bool log);
void softmax_backward(const Tensor& gy, const Tensor& y, const Tensor& gx, bool log);
}  // namespace fusenas::cuda
