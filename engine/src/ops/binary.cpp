// Broadcasting add, sub, mul, div. Backward passes reduce the gradient back to each input's shape.
#include "ops/cpu/binary.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/binary.h"

namespace fusenas {
namespace {

Tensor binary_kernel(const char* name, BinaryKind kind, const Tensor& a, const Tensor& b) {
  check_defined(name, a, "first input");
  check_defined(name, b, "second input");
  check_same_device_dtype(name, {a, b});
  check_floating(name, a);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), name), a.options());
  if (out.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::binary_forward(kind, a, b, out));
  } else {
    cpu::binary_forward(kind, a, b, out);
  }
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("add", BinaryKind::Add, a, b);
  record("add", {a, b}, {out}, [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx) {
    return std::vector{ctx.needs(0) ? sum_to(ctx.grad(), sa) : Tensor(),
                       ctx.needs(1) ? sum_to(ctx.grad(), sb) : Tensor()};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("sub", BinaryKind::Sub, a, b);
  record("sub", {a, b}, {out}, [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx) {
    return std::vector{ctx.needs(0) ? sum_to(ctx.grad(), sa) : Tensor(),
                       ctx.needs(1) ? neg(sum_to(ctx.grad(), sb)) : Tensor()};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("mul", BinaryKind::Mul, a, b);
  if (needs_grad({&a, &b})) {
    record("mul", {a, b}, {out}, [sa = a.detach(), sb = b.detach()](const BackwardContext& ctx) {
      return std::vector{ctx.needs(0) ? sum_to(mul(ctx.grad(), sb), sa.shape()) : Tensor(),
                         ctx.needs(1) ? sum_to(mul(ctx.grad(), sa), sb.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("div", BinaryKind::Div, a, b);
  if (needs_grad({&a, &b})) {
    record("div", {a, b}, {out}, [sa = a.detach(), sb = b.detach()](const BackwardContext& ctx) {
      const Tensor& g = ctx.grad();
      return std::vector{
          ctx.needs(0) ? sum_to(div(g, sb), sa.shape()) : Tensor(),
          ctx.needs(1) ? sum_to(neg(div(mul(g, sa), mul(sb, sb))), sb.shape()) : Tensor()};
    });
  }
  return out;
}

}  // namespace fusenas
