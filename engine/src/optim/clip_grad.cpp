// optim::clip_grad_norm: squared norms are summed on the gradients' device (reductions accumulate
// in double) and read back once, so a GPU run syncs a single time.
#include "fusenas/engine/optim/clip_grad.h"

#include <cmath>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  Tensor sum_sq;
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor s = sum(square(g));
    sum_sq = sum_sq.defined() ? add(sum_sq, s) : s;
    grads.push_back(g);
  }
  if (grads.empty()) return 0.0;
  const double norm = std::sqrt(sum_sq.item());
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    for (auto& g : grads) g.mul_(coef);
  }
  return norm;
}

}  // namespace fusenas::optim
