// matmul ([M,K]x[K,N] and batched [B,M,K]x[B,K,N]) and linear (x W^T + b).
#include "ops/cpu/matmul.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/matmul.h"

namespace fusenas {
namespace {

// out = op(a) @ op(b) on 3-D contiguous operands.
Tensor gemm3(const Tensor& a, bool ta, const Tensor& b, bool tb) {
  const int64_t m = ta ? a.shape()[2] : a.shape()[1];
  const int64_t n = tb ? b.shape()[1] : b.shape()[2];
  Tensor out = Tensor::empty({a.shape()[0], m, n}, a.options());
  if (a.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::batched_gemm(a, ta, b, tb, out));
  } else {
    cpu::batched_gemm(a, ta, b, tb, out);
  }
  return out;
}

Tensor as3d(const Tensor& t) {
  return t.dim() == 3 ? t.contiguous() : t.contiguous().reshape({1, t.shape()[0], t.shape()[1]});
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", a, "first input");
  check_defined("matmul", b, "second input");
  check_same_device_dtype("matmul", {a, b});
  check_floating("matmul", a);
  const bool batched = a.dim() == 3;
  FUSENAS_CHECK((a.dim() == 2 && b.dim() == 2) ||
                    (a.dim() == 3 && b.dim() == 3 && a.shape()[0] == b.shape()[0]),
                "matmul: expected [M,K]x[K,N] or [B,M,K]x[B,K,N], got {} and {}",
                shape_str(a.shape()), shape_str(b.shape()));
  FUSENAS_CHECK(a.shape().back() == b.shape()[b.dim() - 2],
                "matmul: inner dimensions differ: {} and {}", shape_str(a.shape()),
                shape_str(b.shape()));
  const Tensor a3 = as3d(a), b3 = as3d(b);
  Tensor out = gemm3(a3, false, b3, false);
  if (!batched) out = out.reshape({a.shape()[0], b.shape()[1]});
  if (needs_grad({&a, &b})) {
    record("matmul", {a, b}, {out},
           [a3 = a3.detach(), b3 = b3.detach(), sa = a.shape(),
            sb = b.shape()](const BackwardContext& ctx) {
             const Tensor g = as3d(ctx.grad());
             Tensor ga, gb;
             if (ctx.needs(0)) ga = gemm3(g, false, b3, true).reshape(sa);
             if (ctx.needs(1)) gb = gemm3(a3, true, g, false).reshape(sb);
             return std::vector{ga, gb};
           });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined("linear", x, "input");
  check_defined("linear", weight, "weight");
  check_same_device_dtype("linear", {x, weight, bias});
  FUSENAS_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.shape().back() == weight.shape()[1],
                "linear: input {} does not match weight {} (expected [..., in] and [out, in])",
                shape_str(x.shape()), shape_str(weight.shape()));
  FUSENAS_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == weight.shape()[0]),
                "linear: bias {} does not match weight {}", shape_str(bias.shape()),
                shape_str(weight.shape()));
  const int64_t in = weight.shape()[1], out_features = weight.shape()[0];
  const Tensor x2 = x.contiguous().reshape({1, x.numel() / std::max<int64_t>(in, 1), in});
  const Tensor w3 = weight.contiguous().reshape({1, out_features, in});
  Tensor y = gemm3(x2, false, w3, true);
  if (bias.defined()) {
    y.add_(bias.detach());
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  y = y.reshape(out_shape);
  record("linear", {x, weight, bias}, {y},
         [x2 = x2.detach(), w3 = w3.detach(), sx = x.shape(),
          sw = weight.shape()](const BackwardContext& ctx) {
           const Tensor g = ctx.grad().contiguous().reshape({1, x2.shape()[1], w3.shape()[1]});
           Tensor gx, gw, gb;
           if (ctx.needs(0)) gx = gemm3(g, false, w3, false).reshape(sx);
           if (ctx.needs(1)) gw = gemm3(g, true, x2, false).reshape(sw);
           if (ctx.needs(2)) gb = sum(g.reshape({g.shape()[1], g.shape()[2]}), {0});
           return std::vector{gx, gw, gb};
         });
  return y;
}

}  // namespace fusenas
