// CPU kernels for fused cross-entropy: per-row logsumexp in one task, losses summed in double in
// row order so the result does not depend on the thread count.
#include "ops/cpu/cross_entropy.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {

int64_t cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                              const Tensor& lse) {
  const int64_t n = logits.shape()[0];
  const int64_t k = logits.shape()[1];
  const int64_t* lab = labels.data<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    if (lab[r] < 0 || lab[r] >= k) return r;
  }
  dispatch_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    const T* x = logits.data<T>();
    T* plse = lse.data<T>();
    std::vector<double> row_loss(n);
    parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const T* xr = x + r * k;
                     T m = -std::numeric_limits<T>::infinity();
                     for (int64_t i = 0; i < k; ++i) m = std::max(m, xr[i]);
                     double s = 0;
                     for (int64_t i = 0; i < k; ++i) s += std::exp(xr[i] - m);
                     const double l = static_cast<double>(m) + std::log(s);
                     plse[r] = static_cast<T>(l);
                     row_loss[r] = l - static_cast<double>(xr[lab[r]]);
                   }
                 });
    double total = 0;
    for (double v : row_loss) total += v;
    *loss.data<T>() = static_cast<T>(total / static_cast<double>(n));
  });
  return -1;
}

void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits) {
  const int64_t n = logits.shape()[0];
  const int64_t k = logits.shape()[1];
  const int64_t* lab = labels.data<int64_t>();
  dispatch_floating(logits.dtype(), "cross_entropy backward", [&]<typename T>() {
    const T* x = logits.data<T>();
    const T* plse = lse.data<T>();
    T* gx = glogits.data<T>();
    const T g = static_cast<T>(static_cast<double>(*gloss.data<T>()) / static_cast<double>(n));
    parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const T* xr = x + r * k;
                     T* out = gx + r * k;
                     const T l = plse[r];
                     for (int64_t i = 0; i < k; ++i) out[i] = g * std::exp(xr[i] - l);
                     out[lab[r]] -= g;
                   }
                 });
  });
}

}  // namespace fusenas::cpu
