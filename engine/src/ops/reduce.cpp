// Reductions: sum and mean over axes, sum_to (undoing broadcasts), and argmax over the last axis.
#include "ops/cpu/reduce.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/reduce.h"

namespace fusenas {
namespace {

Tensor reduce(const char* name, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim,
              bool average) {
  check_defined(name, x, "input");
  check_floating(name, x);
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(a, x.dim(), name);
    FUSENAS_CHECK(!reduced[d], "{}: axis {} given twice", name, a);
    reduced[d] = true;
  }
  Shape kept_shape = x.shape(), out_shape;
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) {
      count *= x.shape()[d];
      kept_shape[d] = 1;
    } else {
      out_shape.push_back(x.shape()[d]);
    }
  }
  const double factor = average ? 1.0 / static_cast<double>(std::max<int64_t>(count, 1)) : 1.0;
  Tensor out = Tensor::empty(kept_shape, x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::sum_reduce(x, reduced, out, factor));
  } else {
    cpu::sum_reduce(x, reduced, out, factor);
  }
  if (!keepdim) out = make_view(out, out_shape, contiguous_strides(out_shape), out.offset());
  record(name, {x}, {out}, [kept_shape, in_shape = x.shape(), factor](const BackwardContext& ctx) {
    Tensor g = ctx.grad().reshape(kept_shape);
    Tensor gx = zeros(in_shape, g.options());
    gx.add_(g, factor);
    return std::vector{gx};
  });
  return out;
}

std::vector<int64_t> all_axes(const Tensor& x) {
  std::vector<int64_t> axes(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d) axes[d] = d;
  return axes;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce("sum", x, axes, keepdim, false);
}
Tensor sum(const Tensor& x) {
  return reduce("sum", x, all_axes(x), false, false);
}
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce("mean", x, axes, keepdim, true);
}
Tensor mean(const Tensor& x) {
  return reduce("mean", x, all_axes(x), false, true);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  FUSENAS_CHECK(broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(),
                "sum_to: shape {} does not broadcast to {}", shape_str(shape),
                shape_str(x.shape()));
  const size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1))
      axes.push_back(static_cast<int64_t>(d));
  }
  return sum(x, axes, true).reshape(shape);
}

Tensor argmax_last(const Tensor& x) {
  check_defined("argmax", x, "input");
  FUSENAS_CHECK(x.dim() >= 1 && x.shape().back() > 0, "argmax: needs a non-empty last axis, got {}",
                shape_str(x.shape()));
  const Tensor c = x.contiguous();
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor out = Tensor::empty(out_shape, x.options().with_dtype(DType::Int64));
  if (c.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::argmax_last(c, out));
  } else {
    cpu::argmax_last(c, out);
  }
  return out;
}

}  // namespace fusenas
