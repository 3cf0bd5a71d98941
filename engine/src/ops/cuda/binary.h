// CUDA launcher for broadcasting binary arithmetic (same contract as ops/cpu/binary.h).
#pragma once

#include "ops/cpu/binary.h"

namespace fusenas::cuda {
void binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out);
}  // namespace fusenas::cuda
