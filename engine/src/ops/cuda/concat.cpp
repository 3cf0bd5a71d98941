// CUDA launchers for concatenation and its gradient split: one strided copy per input, between
// the input and its band of the output viewed along the axis.
#include "ops/cuda/concat.h"

#include "ops/cuda/copy.h"

namespace fusenas::cuda {
namespace {

// The [offset, offset + size) band of `t` along `axis`, as a plain view.
Tensor band(const Tensor& t, int64_t axis, int64_t offset, int64_t size) {
  Shape shape = t.shape();
  shape[axis] = size;
  return make_view(t, shape, t.strides(), t.offset() + offset * t.strides()[axis]);
}

}  // namespace

void concat_forward(const std::vector<Tensor>& xs, int64_t axis, const Tensor& out) {
  int64_t offset = 0;
  for (const auto& x : xs) {
    const int64_t size = x.shape()[axis];
    if (x.numel() > 0) copy(x, band(out, axis, offset, size));
    offset += size;
  }
}

void concat_backward(const Tensor& gy, int64_t axis, const std::vector<int64_t>& sizes,
                     const std::vector<Tensor>& gxs) {
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (gxs[i].defined() && gxs[i].numel() > 0) copy(band(gy, axis, offset, sizes[i]), gxs[i]);
    offset += sizes[i];
  }
}

}  // namespace fusenas::cuda
