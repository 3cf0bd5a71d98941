// optim::sum_of_squares / scale_ / copy_ / add_ / clone: multi-tensor launches for CUDA lists of
// one dtype, per-tensor ops otherwise.
#include "fusenas/engine/optim/multi_tensor.h"

#include "core/dispatch.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "optim/cuda/multi_tensor.h"

namespace fusenas::optim {

namespace {

// Contiguous CUDA tensors of one dtype on one device: the multi-tensor kernels apply.
bool multi_tensor(const std::vector<Tensor>& xs) {
  if (xs.empty() || !xs.front().is_cuda()) return false;
  for (const Tensor& x : xs) {
    if (x.device() != xs.front().device() || x.dtype() != xs.front().dtype() || !x.is_contiguous())
      return false;
  }
  return true;
}

// Both lists qualify for the multi-tensor kernels together.
bool multi_tensor(const std::vector<Tensor>& dst, const std::vector<Tensor>& src) {
  FUSENAS_CHECK(dst.size() == src.size(), "tensor lists of different lengths: {} and {}",
                dst.size(), src.size());
  for (size_t i = 0; i < dst.size(); ++i) {
    FUSENAS_CHECK(dst[i].shape() == src[i].shape(), "tensor {} of the lists: shapes {} and {}", i,
                  shape_str(dst[i].shape()), shape_str(src[i].shape()));
  }
  return multi_tensor(dst) && multi_tensor(src) && dst.front().device() == src.front().device() &&
         dst.front().dtype() == src.front().dtype();
}

}  // namespace

Tensor sum_of_squares(const std::vector<Tensor>& xs) {
  FUSENAS_CHECK(!xs.empty(), "sum_of_squares: no tensors");
  const NoGradGuard no_grad;
  if (multi_tensor(xs)) {
    Tensor out;
    FUSENAS_ON_CUDA(out = cuda::sum_of_squares(xs));
    return out;
  }
  Tensor total;
  for (const Tensor& x : xs) {
    const Tensor s = sum(square(x));
    total = total.defined() ? add(total, s) : s;
  }
  return total;
}

void scale_(const std::vector<Tensor>& xs, const Tensor& factor) {
  const NoGradGuard no_grad;
  if (multi_tensor(xs) && factor.device() == xs.front().device() &&
      factor.dtype() == xs.front().dtype() && factor.numel() == 1) {
    FUSENAS_ON_CUDA(cuda::scale_(xs, factor));
    return;
  }
  for (const Tensor& x : xs) x.mul_(factor);
}

void copy_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src) {
  const NoGradGuard no_grad;
  if (multi_tensor(dst, src)) {
    FUSENAS_ON_CUDA(cuda::copy_(dst, src));
    return;
  }
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
}

void add_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, double alpha) {
  const NoGradGuard no_grad;
  if (multi_tensor(dst, src)) {
    FUSENAS_ON_CUDA(cuda::add_(dst, src, alpha));
    return;
  }
  for (size_t i = 0; i < dst.size(); ++i) dst[i].add_(src[i], alpha);
}

std::vector<Tensor> clone(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  out.reserve(xs.size());
  for (const Tensor& x : xs) out.push_back(Tensor::empty(x.shape(), x.options()));
  copy_(out, xs);
  return out;
}

}  // namespace fusenas::optim
