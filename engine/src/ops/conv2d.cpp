// conv2d on NHWC activations with [C_out, kH, kW, C_in/groups] weights: checks, output
// allocation, backend dispatch and the backward (input, weight and bias gradients).
#include "ops/cpu/conv2d.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/conv2d.h"

namespace fusenas {
namespace {

Conv2dGeometry geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Conv2dParams& p) {
  check_defined("conv2d", x, "input");
  check_defined("conv2d", weight, "weight");
  check_same_device_dtype("conv2d", {x, weight, bias});
  check_floating("conv2d", x);
  const std::string xs = shape_str(x.shape()), ws = shape_str(weight.shape());
  FUSENAS_CHECK(x.dim() == 4 && weight.dim() == 4,
                "conv2d: expected input [N, H, W, C_in] and weight [C_out, kH, kW, C_in/groups], "
                "got input {} and weight {}",
                xs, ws);
  FUSENAS_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 &&
                    p.pad_h >= 0 && p.pad_w >= 0 && p.groups >= 1,
                "conv2d: invalid stride ({}, {}), padding ({}, {}), dilation ({}, {}) or groups {} "
                "for input {} and weight {}",
                p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups, xs,
                ws);
  Conv2dGeometry g;
  g.n = x.shape()[0];
  g.h = x.shape()[1];
  g.w = x.shape()[2];
  g.cin = x.shape()[3];
  g.cout = weight.shape()[0];
  g.kh = weight.shape()[1];
  g.kw = weight.shape()[2];
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.dilation_h = p.dilation_h;
  g.dilation_w = p.dilation_w;
  g.groups = p.groups;
  FUSENAS_CHECK(g.cin % p.groups == 0 && g.cout % p.groups == 0,
                "conv2d: groups={} must divide C_in={} and C_out={} (input {}, weight {})",
                p.groups, g.cin, g.cout, xs, ws);
  FUSENAS_CHECK(weight.shape()[3] == g.cin / p.groups,
                "conv2d: input {} has C_in={}, so with groups={} the weight needs {} input "
                "channels, but weight {} has {}",
                xs, g.cin, p.groups, g.cin / p.groups, ws, weight.shape()[3]);
  FUSENAS_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == g.cout),
                "conv2d: bias {} does not match weight {} (expected [{}]); input {}",
                shape_str(bias.shape()), ws, g.cout, xs);
  const int64_t span_h = p.dilation_h * (g.kh - 1) + 1, span_w = p.dilation_w * (g.kw - 1) + 1;
  const int64_t padded_h = g.h + 2 * p.pad_h, padded_w = g.w + 2 * p.pad_w;
  FUSENAS_CHECK(g.kh >= 1 && g.kw >= 1 && span_h <= padded_h && span_w <= padded_w,
                "conv2d: kernel {}x{} with dilation ({}, {}) spans {}x{}, larger than the padded "
                "input {}x{} (input {}, weight {}, padding ({}, {}))",
                g.kh, g.kw, p.dilation_h, p.dilation_w, span_h, span_w, padded_h, padded_w, xs, ws,
                p.pad_h, p.pad_w);
  g.ho = (padded_h - span_h) / p.stride_h + 1;
  g.wo = (padded_w - span_w) / p.stride_w + 1;
  return g;
}

bool empty(const Conv2dGeometry& g) {
  return g.n == 0 || g.cout == 0 || g.cin == 0 || g.h == 0 || g.w == 0;
}

Tensor input_grad(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight) {
  if (empty(g)) return zeros({g.n, g.h, g.w, g.cin}, gy.options());
  Tensor gx = Tensor::empty({g.n, g.h, g.w, g.cin}, gy.options());
  if (gy.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::conv2d_backward_input(g, gy, weight, gx));
  } else {
    cpu::conv2d_backward_input(g, gy, weight, gx);
  }
  return gx;
}

Tensor weight_grad(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x) {
  const Shape shape{g.cout, g.kh, g.kw, g.cin_g()};
  if (empty(g)) return zeros(shape, gy.options());
  Tensor gw = Tensor::empty(shape, gy.options());
  if (gy.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::conv2d_backward_weight(g, gy, x, gw));
  } else {
    cpu::conv2d_backward_weight(g, gy, x, gw);
  }
  return gw;
}

Tensor bias_grad(const Conv2dGeometry& g, const Tensor& gy) {
  if (empty(g)) return zeros({g.cout}, gy.options());
  Tensor gb = Tensor::empty({g.cout}, gy.options());
  if (gy.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::conv2d_backward_bias(g, gy, gb));
  } else {
    cpu::conv2d_backward_bias(g, gy, gb);
  }
  return gb;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  const Conv2dGeometry g = geometry(x, weight, bias, p);
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({g.n, g.ho, g.wo, g.cout}, x.options());
  if (empty(g)) {
    y.fill_(0.0);
    if (bias.defined() && y.numel() > 0) y.add_(bc.detach());
  } else if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::conv2d_forward(g, xc, wc, bc, y));
  } else {
    cpu::conv2d_forward(g, xc, wc, bc, y);
  }
  if (needs_grad({&x, &weight, &bias})) {
    // The input gradient needs only the weight and the weight gradient only the input, so each
    // is kept alive only when the other one will be differentiated.
    const Tensor saved_x = weight.requires_grad() ? xc.detach() : Tensor();
    const Tensor saved_w = x.requires_grad() ? wc.detach() : Tensor();
    record("conv2d", {x, weight, bias}, {y}, [g, saved_x, saved_w](const BackwardContext& ctx) {
      const Tensor gy = ctx.grad().contiguous();
      Tensor gx, gw, gb;
      if (ctx.needs(0)) gx = input_grad(g, gy, saved_w);
      if (ctx.needs(1)) gw = weight_grad(g, gy, saved_x);
      if (ctx.needs(2)) gb = bias_grad(g, gy);
      return std::vector{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace fusenas
