// concat: joins tensors along any axis (the channel axis, last in NHWC, is the common case); the
// backward splits the gradient back into one contiguous piece per input.
#include "ops/cpu/concat.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/concat.h"

namespace fusenas {

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  FUSENAS_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (const auto& x : xs) check_defined("concat", x, "input");
  check_same_device_dtype("concat", xs);
  const int64_t rank = xs[0].dim();
  FUSENAS_CHECK(rank >= 1, "concat: cannot concatenate 0-d tensors (shapes {})", shapes_str(xs));
  const int64_t a = normalize_axis(axis, rank, "concat");
  Shape out_shape = xs[0].shape();
  out_shape[a] = 0;
  std::vector<int64_t> sizes;
  for (const auto& x : xs) {
    bool match = x.dim() == rank;
    for (int64_t d = 0; match && d < rank; ++d) match = d == a || x.shape()[d] == out_shape[d];
    FUSENAS_CHECK(match, "concat: shapes {} differ outside axis {}", shapes_str(xs), a);
    sizes.push_back(x.shape()[a]);
    out_shape[a] += x.shape()[a];
  }

  std::vector<Tensor> cx;
  cx.reserve(xs.size());
  for (const auto& x : xs) cx.push_back(x.contiguous());
  Tensor out = Tensor::empty(out_shape, cx[0].options());
  if (out.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::concat_forward(cx, a, out));
  } else {
    cpu::concat_forward(cx, a, out);
  }
  if (needs_grad(xs)) {
    std::vector<Shape> shapes;
    for (const auto& x : xs) shapes.push_back(x.shape());
    record("concat", xs, {out}, [a, sizes, shapes = std::move(shapes)](const BackwardContext& ctx) {
      const Tensor g = ctx.grad().contiguous();
      std::vector<Tensor> grads(shapes.size());
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (ctx.needs(i)) grads[i] = Tensor::empty(shapes[i], g.options());
      }
      if (g.is_cuda()) {
        FUSENAS_ON_CUDA(cuda::concat_backward(g, a, sizes, grads));
      } else {
        cpu::concat_backward(g, a, sizes, grads);
      }
      return grads;
    });
  }
  return out;
}

}  // namespace fusenas
