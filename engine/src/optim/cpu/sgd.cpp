// Fused SGD update: one pass per parameter instead of torch's four elementwise ops, rounding in
// the same order so results match torch.optim.SGD bit for bit up to FMA contraction.
#include "optim/cpu/sgd.h"

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

template <typename T>
void update(T* p, const T* g, T* buf, bool first, int64_t n, const SgdHyper& h) {
  const T wd = static_cast<T>(h.weight_decay);
  const T momentum = static_cast<T>(h.momentum);
  const T keep = static_cast<T>(1.0 - h.dampening);
  const T neg_lr = static_cast<T>(-h.lr);
  const bool decay = h.weight_decay != 0;
  parallel_for(n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T d = g[i];
      if (decay) d = d + wd * p[i];
      if (buf) {
        buf[i] = first ? d : buf[i] * momentum + keep * d;
        d = h.nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] = p[i] + neg_lr * d;
    }
  });
}

}  // namespace

void sgd_step(const SgdTensors& t, const SgdHyper& h) {
  for (size_t k = 0; k < t.params.size(); ++k) {
    const Tensor& p = t.params[k];
    dispatch_floating(p.dtype(), "sgd", [&]<typename T>() {
      T* buf = t.momentum_buffers.empty() ? nullptr : t.momentum_buffers[k].data<T>();
      update<T>(p.data<T>(), t.grads[k].data<T>(), buf, t.first_step.empty() || t.first_step[k],
                p.numel(), h);
    });
  }
}

}  // namespace fusenas::cpu
