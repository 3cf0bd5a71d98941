// CPU kernel for broadcasting binary arithmetic.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas {

enum class BinaryKind { Add, Sub, Mul, Div };

namespace cpu {
// out = a (op) b with a and b broadcast to out's (contiguous) shape.
void binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out);
}  // namespace cpu

}  // namespace fusenas
