// CPU kernels for embedding. The backward splits the vocabulary across threads (each owns a range
// of weight rows and scans every index), so repeated indices never race and sums keep index order.
#include "ops/cpu/embedding.h"

#include <cstring>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {

int64_t embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t v = weight.shape()[0];
  const int64_t d = weight.shape()[1];
  const int64_t n = indices.numel();
  const int64_t* idx = indices.data<int64_t>();
  for (int64_t j = 0; j < n; ++j) {
    if (idx[j] < 0 || idx[j] >= v) return j;
  }
  dispatch_floating(weight.dtype(), "embedding", [&]<typename T>() {
    const T* w = weight.data<T>();
    T* o = out.data<T>();
    parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t j = b; j < e; ++j) {
                     std::memcpy(o + j * d, w + idx[j] * d, sizeof(T) * d);
                   }
                 });
  });
  return -1;
}

void embedding_backward(const Tensor& gy, const Tensor& indices, const Tensor& gweight) {
  const int64_t v = gweight.shape()[0];
  const int64_t d = gweight.shape()[1];
  const int64_t n = indices.numel();
  const int64_t* idx = indices.data<int64_t>();
  dispatch_floating(gweight.dtype(), "embedding backward", [&]<typename T>() {
    const T* g = gy.data<T>();
    T* gw = gweight.data<T>();
    // Every task scans all n indices, so stay serial unless there is real work to split.
    const bool split = (n + v) * d >= 32768;
    parallel_for(v, split ? 1 : v + 1, [&](int64_t vb, int64_t ve) {
      std::memset(gw + vb * d, 0, sizeof(T) * (ve - vb) * d);
      for (int64_t j = 0; j < n; ++j) {
        const int64_t row = idx[j];
        if (row < vb || row >= ve) continue;
        T* dst = gw + row * d;
        const T* src = g + j * d;
        for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
      }
    });
  });
}

}  // namespace fusenas::cpu
