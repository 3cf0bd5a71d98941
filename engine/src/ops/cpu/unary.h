// CPU kernels for pointwise unary ops and their backward passes.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas {

enum class UnaryKind {
  Relu,
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Neg,
  Square,
  Scale,
  AddScalar,
  Sqrt,
  ClampMax
};

namespace cpu {
// y = f(x); x and y contiguous, same shape. `param` is the factor/addend of Scale/AddScalar and
// the bound of ClampMax.
void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param);
// gx = gy * f'(.) where `saved` is y for Relu/Sigmoid/Tanh/Exp/Sqrt and x for Log/Square/ClampMax.
void unary_backward(UnaryKind kind, const Tensor& gy, const Tensor& saved, const Tensor& gx,
                    double param);
}  // namespace cpu

}  // namespace fusenas
