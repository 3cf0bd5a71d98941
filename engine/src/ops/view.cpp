// View ops (reshape, permute, slice, narrow): share storage in the forward pass; their backward
// maps the gradient back onto the input's shape.
#include <algorithm>
#include <numeric>

#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"

namespace fusenas {

Tensor Tensor::reshape(const Shape& requested) const {
  Shape target = requested;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      FUSENAS_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(requested));
      infer = static_cast<int>(i);
    } else {
      FUSENAS_CHECK(target[i] >= 0, "reshape: bad size in {}", shape_str(requested));
      known *= target[i];
    }
  }
  if (infer >= 0) {
    FUSENAS_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape {} into {}",
                  shape_str(shape()), shape_str(requested));
    target[infer] = numel() / known;
  }
  FUSENAS_CHECK(numel_of(target) == numel(), "reshape: cannot reshape {} ({} elements) into {}",
                shape_str(shape()), numel(), shape_str(requested));
  const Tensor base = contiguous();
  Tensor out = make_view(base, target, contiguous_strides(target), base.offset());
  const Shape in_shape = shape();
  record("reshape", {*this}, {out}, [in_shape](const BackwardContext& ctx) {
    return std::vector{ctx.grad().reshape(in_shape)};
  });
  return out;
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  FUSENAS_CHECK(static_cast<int64_t>(order.size()) == dim(),
                "permute: order {} for a tensor of shape {}", shape_str(order), shape_str(shape()));
  std::vector<int64_t> inverse(order.size(), -1);
  Shape new_shape(order.size()), new_strides(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t a = normalize_axis(order[i], dim(), "permute");
    FUSENAS_CHECK(inverse[a] < 0, "permute: axis {} repeated in {}", a, shape_str(order));
    inverse[a] = static_cast<int64_t>(i);
    new_shape[i] = shape()[a];
    new_strides[i] = strides()[a];
  }
  Tensor out = make_view(*this, new_shape, new_strides, offset());
  record("permute", {*this}, {out}, [inverse](const BackwardContext& ctx) {
    return std::vector{ctx.grad().permute(inverse)};
  });
  return out;
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t stop, int64_t step) const {
  const int64_t a = normalize_axis(axis, dim(), "slice");
  FUSENAS_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t n = shape()[a];
  auto clamp = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  const int64_t lo = clamp(start);
  const int64_t hi = std::max(lo, clamp(stop));
  Shape new_shape = shape();
  Shape new_strides = strides();
  new_shape[a] = (hi - lo + step - 1) / step;
  new_strides[a] = strides()[a] * step;
  Tensor out = make_view(*this, new_shape, new_strides, offset() + lo * strides()[a]);
  const Shape in_shape = shape();
  record("slice", {*this}, {out}, [in_shape, a, lo, hi, step](const BackwardContext& ctx) {
    const Tensor& g = ctx.grad();
    Tensor full_grad = zeros(in_shape, g.options());
    full_grad.slice(a, lo, hi, step).copy_(g);
    return std::vector{full_grad};
  });
  return out;
}

Tensor Tensor::narrow(int64_t axis, int64_t start, int64_t length) const {
  const int64_t a = normalize_axis(axis, dim(), "narrow");
  FUSENAS_CHECK(start >= 0 && length >= 0 && start + length <= shape()[a],
                "narrow: [{}, {}) is outside axis {} of shape {}", start, start + length, a,
                shape_str(shape()));
  return slice(a, start, start + length, 1);
}

}  // namespace fusenas
