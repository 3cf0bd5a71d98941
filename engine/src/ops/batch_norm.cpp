// batch_norm over the last (channel) axis of NHWC or [N, C] input, with running-stat updates and
// the fused backward.
#include "ops/cpu/batch_norm.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/batch_norm.h"

namespace fusenas {
namespace {

void check_per_channel(const Tensor& t, const char* what, const Tensor& x) {
  const int64_t c = x.shape().back();
  FUSENAS_CHECK(!t.defined() || (t.dim() == 1 && t.shape()[0] == c),
                "batch_norm: {} has shape {} but the input {} has {} channels (expected [{}])",
                what, shape_str(t.shape()), shape_str(x.shape()), c, c);
}

// A contiguous, history-free alias of `t` (or a copy when it is strided).
Tensor plain(const Tensor& t) {
  return t.defined() ? t.detach().contiguous() : Tensor();
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  check_defined("batch_norm", input, "input");
  check_floating("batch_norm", input);
  FUSENAS_CHECK(input.dim() == 2 || input.dim() == 4,
                "batch_norm: expected a 2-D [N, C] or 4-D [N, H, W, C] input, got {}",
                shape_str(input.shape()));
  check_same_device_dtype("batch_norm", {input, weight, bias, running_mean, running_var});
  check_per_channel(weight, "weight", input);
  check_per_channel(bias, "bias", input);
  check_per_channel(running_mean, "running_mean", input);
  check_per_channel(running_var, "running_var", input);
  FUSENAS_CHECK(running_mean.defined() == running_var.defined(),
                "batch_norm: running_mean {} and running_var {} must be both given or both "
                "undefined (input {})",
                running_mean.defined() ? shape_str(running_mean.shape()) : "undefined",
                running_var.defined() ? shape_str(running_var.shape()) : "undefined",
                shape_str(input.shape()));
  FUSENAS_CHECK(training || running_mean.defined(),
                "batch_norm: eval mode needs running_mean and running_var (input {})",
                shape_str(input.shape()));
  const int64_t c = input.shape().back();
  FUSENAS_CHECK(!training || c == 0 || input.numel() / c > 1,
                "batch_norm: training needs more than one value per channel, got input {}",
                shape_str(input.shape()));

  const Tensor x = plain(input), w = plain(weight), b = plain(bias);
  // Running stats are updated in place; a strided one is updated through a copy and written back.
  Tensor rm = plain(running_mean), rv = plain(running_var);
  Tensor y = Tensor::empty(x.shape(), x.options());
  Tensor save_mean = Tensor::empty({c}, x.options()), save_invstd = Tensor::empty({c}, x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::batch_norm_forward(x, w, b, rm, rv, training, momentum, eps, y, save_mean,
                                             save_invstd));
  } else {
    cpu::batch_norm_forward(x, w, b, rm, rv, training, momentum, eps, y, save_mean, save_invstd);
  }
  if (training && rm.defined()) {
    if (rm.storage() != running_mean.storage()) running_mean.detach().copy_(rm);
    if (rv.storage() != running_var.storage()) running_var.detach().copy_(rv);
  }

  if (needs_grad({&input, &weight, &bias})) {
    record("batch_norm", {input, weight, bias}, {y},
           [training, x, w, save_mean, save_invstd](const BackwardContext& ctx) {
             const Tensor gy = ctx.grad().detach().contiguous();
             const int64_t channels = x.shape().back();
             Tensor gx = ctx.needs(0) ? Tensor::empty(x.shape(), x.options()) : Tensor();
             Tensor gw = ctx.needs(1) ? Tensor::empty({channels}, x.options()) : Tensor();
             Tensor gb = ctx.needs(2) ? Tensor::empty({channels}, x.options()) : Tensor();
             if (x.is_cuda()) {
               FUSENAS_ON_CUDA(cuda::batch_norm_backward(training, gy, x, w, save_mean, save_invstd,
                                                         gx, gw, gb));
             } else {
               cpu::batch_norm_backward(training, gy, x, w, save_mean, save_invstd, gx, gw, gb);
             }
             return std::vector{gx, gw, gb};
           });
  }
  return y;
}

}  // namespace fusenas
