// zero_op: the DARTS `none` candidate. Its output never depends on x, so it needs no kernel of
// its own (a fill); it still records a node so that x receives a defined, all-zero gradient.
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas {

Tensor zero_op(const Tensor& x, int64_t stride) {
  check_defined("zero_op", x, "input");
  check_floating("zero_op", x);
  FUSENAS_CHECK(x.dim() == 4, "zero_op: input must be NHWC [N, H, W, C], got {}",
                shape_str(x.shape()));
  FUSENAS_CHECK(stride >= 1, "zero_op: stride must be >= 1, got {} (input {})", stride,
                shape_str(x.shape()));
  const Shape& s = x.shape();
  // Same size as x[:, ::stride, ::stride, :].
  Tensor out =
      zeros({s[0], (s[1] + stride - 1) / stride, (s[2] + stride - 1) / stride, s[3]}, x.options());
  if (needs_grad({&x})) {
    record("zero_op", {x}, {out}, [in_shape = s](const BackwardContext& ctx) {
      return std::vector{zeros(in_shape, ctx.grad().options())};
    });
  }
  return out;
}

}  // namespace fusenas
