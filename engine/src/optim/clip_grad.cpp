// optim::clip_grad_norm: squared norms are summed on the gradients' device (reductions accumulate
// in double) and the clipping factor is computed there too, so nothing waits for the host.
#include "fusenas/engine/optim/clip_grad.h"

#include "core/dispatch.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "optim/cuda/clip_grad.h"

namespace fusenas::optim {

namespace {

// CUDA gradients of one dtype, all contiguous: the multi-tensor launches apply.
bool multi_tensor(const std::vector<Tensor>& grads) {
  if (grads.empty() || !grads.front().is_cuda()) return false;
  for (const Tensor& g : grads) {
    if (!g.is_cuda() || g.dtype() != grads.front().dtype() ||
        g.device() != grads.front().device() || !g.is_contiguous())
      return false;
  }
  return true;
}

}  // namespace

Tensor clip_grad_norm_on_device(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  std::vector<Tensor> cuda_grads;
  for (const auto& p : params)
    if (p.grad().defined()) cuda_grads.push_back(p.grad());
  if (multi_tensor(cuda_grads)) {
    Tensor norm;
    FUSENAS_ON_CUDA(norm = cuda::clip_grad_norm(cuda_grads, max_norm));
    return norm;
  }
  std::vector<Tensor> grads;
  Tensor sum_sq;
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor s = sum(square(g));
    sum_sq = sum_sq.defined() ? add(sum_sq, s) : s;
    grads.push_back(g);
  }
  if (grads.empty()) return Tensor();
  const Tensor norm = sqrt(sum_sq);
  // Multiplying by exactly 1 when no clipping is due leaves the gradients bit-for-bit unchanged.
  const Tensor coef =
      clamp_max(div(full({}, max_norm, norm.options()), add_scalar(norm, 1e-6)), 1.0);
  for (auto& g : grads) g.mul_(coef);
  return norm;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  const Tensor norm = clip_grad_norm_on_device(params, max_norm);
  return norm.defined() ? norm.item() : 0.0;
}

}  // namespace fusenas::optim
