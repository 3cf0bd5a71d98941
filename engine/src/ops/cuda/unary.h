// CUDA launchers for pointwise unary ops (same contract as ops/cpu/unary.h).
#pragma once

#include "ops/cpu/unary.h"

namespace fusenas::cuda {
void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param);
void unary_backward(UnaryKind kind, const Tensor& gy, const Tensor& saved, const Tensor& gx,
                    double param);
}  // namespace fusenas::cuda
