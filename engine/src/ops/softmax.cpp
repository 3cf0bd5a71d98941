// softmax and log_softmax over the last axis. Both save only their output: the backward of each is
// a function of y alone.
#include "ops/cpu/softmax.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/softmax.h"

namespace fusenas {
namespace {

Tensor softmax_impl(const char* name, const Tensor& input, bool log) {
  check_defined(name, input, "input");
  check_floating(name, input);
  FUSENAS_CHECK(input.dim() >= 1, "{}: needs at least one axis, got shape {}", name,
                shape_str(input.shape()));
  const Tensor x = input.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::softmax_forward(x, y, log));
  } else {
    cpu::softmax_forward(x, y, log);
  }
  if (needs_grad({&input})) {
    record(name, {input}, {y}, [saved = y.detach(), log](const BackwardContext& ctx) {
      const Tensor g = ctx.grad().contiguous();
      Tensor gx = Tensor::empty(g.shape(), g.options());
      if (g.is_cuda()) {
        FUSENAS_ON_CUDA(cuda::softmax_backward(g, saved, gx, log));
      } else {
        cpu::softmax_backward(g, saved, gx, log);
      }
      return std::vector{gx};
    });
  }
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x) {
  return softmax_impl("softmax", x, false);
}

Tensor log_softmax(const Tensor& x) {
  return softmax_impl("log_softmax", x, true);
}

}  // namespace fusenas
