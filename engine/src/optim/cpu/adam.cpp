// Fused Adam update: one pass per parameter, rounding in torch.optim.Adam's order
// (denom = sqrt(v) / sqrt(bc2) + eps; p += (-lr / bc1) * m / denom) so results match torch.
#include "optim/cpu/adam.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

template <typename T>
void update(T* p, const T* g, T* m, T* v, int64_t n, double step, const AdamHyper& h) {
  // torch computes these in Python doubles and passes them to float kernels as scalars.
  const double bc1 = 1.0 - std::pow(h.beta1, step);
  const double bc2 = 1.0 - std::pow(h.beta2, step);
  const T neg_step_size = static_cast<T>(-(h.lr / bc1));
  const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  const T b1 = static_cast<T>(h.beta1), one_minus_b1 = static_cast<T>(1.0 - h.beta1);
  const T b2 = static_cast<T>(h.beta2), one_minus_b2 = static_cast<T>(1.0 - h.beta2);
  const T eps = static_cast<T>(h.eps);
  const T wd = static_cast<T>(h.weight_decay);
  const bool decay = h.weight_decay != 0;
  parallel_for(n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T grad = g[i];
      if (decay) grad = grad + wd * p[i];
      m[i] = m[i] * b1 + one_minus_b1 * grad;
      v[i] = v[i] * b2 + one_minus_b2 * grad * grad;
      const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      p[i] = p[i] + neg_step_size * m[i] / denom;
    }
  });
}

}  // namespace

void adam_step(const AdamTensors& t, const AdamHyper& h) {
  for (size_t k = 0; k < t.params.size(); ++k) {
    const Tensor& p = t.params[k];
    dispatch_floating(p.dtype(), "adam", [&]<typename T>() {
      update<T>(p.data<T>(), t.grads[k].data<T>(), t.exp_avgs[k].data<T>(),
                t.exp_avg_sqs[k].data<T>(), p.numel(), t.steps[k], h);
    });
  }
}

}  // namespace fusenas::cpu
