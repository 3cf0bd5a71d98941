// CPU kernels for softmax and log-softmax over the last axis, forward and backward.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// y = softmax(x) (or log_softmax when `log`) over each row of contiguous x viewed as [rows, K].
void softmax_forward(const Tensor& x, const Tensor& y, bool log);
// gx from gy and the saved output y: y * (gy - <gy, y>) for softmax, gy - exp(y) * sum(gy) for
// log_softmax. All contiguous, same shape.
void softmax_backward(const Tensor& gy, const Tensor& y, const Tensor& gx, bool log);

}  // namespace fusenas::cpu
