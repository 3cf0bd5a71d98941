// optim::clip_grad_norm: squared norms are summed on the gradients' device (reductions accumulate
// in double) and the clipping factor is computed there too, so nothing waits for the host.
#include "fusenas/engine/optim/clip_grad.h"

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/multi_tensor.h"

namespace fusenas::optim {

Tensor clip_grad_norm_on_device(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return Tensor();
  const Tensor norm = sqrt(sum_of_squares(grads));
  // Multiplying by exactly 1 when no clipping is due leaves the gradients bit-for-bit unchanged.
  const Tensor coef =
      clamp_max(div(full({}, max_norm, norm.options()), add_scalar(norm, 1e-6)), 1.0);
  scale_(grads, coef);
  return norm;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  const Tensor norm = clip_grad_norm_on_device(params, max_norm);
  return norm.defined() ? norm.item() : 0.0;
}

}  // namespace fusenas::optim
