// optim::sum_of_squares / scale_: multi-tensor launches for CUDA lists of one dtype, per-tensor
// ops otherwise.
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

}  // namespace fusenas::optim
