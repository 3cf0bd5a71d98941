// Pointwise unary ops: relu, sigmoid, tanh, exp, log, neg, square, scale, add_scalar, sqrt,
// clamp_max.
// Each saves the output (or input) it needs and runs one fused backward kernel.
#include "ops/cpu/unary.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/unary.h"

namespace fusenas {
namespace {

// Which tensor the backward needs: the output, the input, or nothing.
enum class Saves { Output, Input, Nothing };

Saves saves_of(UnaryKind kind) {
  switch (kind) {
    case UnaryKind::Relu:
    case UnaryKind::Sigmoid:
    case UnaryKind::Tanh:
    case UnaryKind::Exp:
    case UnaryKind::Sqrt:
      return Saves::Output;
    case UnaryKind::Log:
    case UnaryKind::Square:
    case UnaryKind::ClampMax:
      return Saves::Input;
    default:
      return Saves::Nothing;
  }
}

Tensor backward_kernel(UnaryKind kind, const Tensor& gy, const Tensor& saved, double param) {
  Tensor g = gy.contiguous();
  Tensor gx = Tensor::empty(g.shape(), g.options());
  if (g.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::unary_backward(kind, g, saved, gx, param));
  } else {
    cpu::unary_backward(kind, g, saved, gx, param);
  }
  return gx;
}

Tensor unary(const char* name, UnaryKind kind, const Tensor& input, double param = 0.0) {
  check_defined(name, input, "input");
  check_floating(name, input);
  const Tensor x = input.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::unary_forward(kind, x, y, param));
  } else {
    cpu::unary_forward(kind, x, y, param);
  }
  if (needs_grad({&input})) {
    const Saves what = saves_of(kind);
    Tensor saved = what == Saves::Output  ? y.detach()
                   : what == Saves::Input ? x.detach()
                                          : Tensor();
    record(name, {input}, {y}, [kind, saved, param](const BackwardContext& ctx) {
      return std::vector{backward_kernel(kind, ctx.grad(), saved, param)};
    });
  }
  return y;
}

}  // namespace

Tensor relu(const Tensor& x) {
  return unary("relu", UnaryKind::Relu, x);
}
Tensor sigmoid(const Tensor& x) {
  return unary("sigmoid", UnaryKind::Sigmoid, x);
}
Tensor tanh(const Tensor& x) {
  return unary("tanh", UnaryKind::Tanh, x);
}
Tensor exp(const Tensor& x) {
  return unary("exp", UnaryKind::Exp, x);
}
Tensor log(const Tensor& x) {
  return unary("log", UnaryKind::Log, x);
}
Tensor neg(const Tensor& x) {
  return unary("neg", UnaryKind::Neg, x);
}
Tensor square(const Tensor& x) {
  return unary("square", UnaryKind::Square, x);
}
Tensor scale(const Tensor& x, double factor) {
  return unary("scale", UnaryKind::Scale, x, factor);
}
Tensor add_scalar(const Tensor& x, double value) {
  return unary("add_scalar", UnaryKind::AddScalar, x, value);
}
Tensor sqrt(const Tensor& x) {
  return unary("sqrt", UnaryKind::Sqrt, x);
}
Tensor clamp_max(const Tensor& x, double max) {
  return unary("clamp_max", UnaryKind::ClampMax, x, max);
}

}  // namespace fusenas
