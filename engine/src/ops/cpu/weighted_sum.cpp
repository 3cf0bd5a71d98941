// CPU kernels for weighted_sum. Both passes walk the data in cache-sized blocks so each input and
// output element is touched once. The backward's dot products use fixed chunks with one partial
// per chunk, summed in chunk order: the result is the same for every thread count.
#include "ops/cpu/weighted_sum.h"

#include <algorithm>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

// Elements per block of the forward: out's block stays in L1 while every input is added in.
constexpr int64_t kForwardBlock = 2048;
// Elements per chunk of the backward: gy's chunk stays in L2 while it is reused for every input.
constexpr int64_t kBackwardChunk = 16384;

}  // namespace

void weighted_sum_forward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& out) {
  const int64_t n = out.numel();
  const size_t count = xs.size();
  dispatch_floating(out.dtype(), "weighted_sum", [&]<typename T>() {
    std::vector<const T*> px(count);
    for (size_t i = 0; i < count; ++i) px[i] = xs[i].data<T>();
    const T* w = weights.data<T>();
    T* o = out.data<T>();
    parallel_for(n, 32768, [&](int64_t b, int64_t e) {
      for (int64_t lo = b; lo < e; lo += kForwardBlock) {
        const int64_t hi = std::min(e, lo + kForwardBlock);
        const T w0 = w[0];
        const T* x0 = px[0];
        for (int64_t j = lo; j < hi; ++j) o[j] = w0 * x0[j];
        for (size_t i = 1; i < count; ++i) {
          const T wi = w[i];
          const T* xi = px[i];
          for (int64_t j = lo; j < hi; ++j) o[j] += wi * xi[j];
        }
      }
    });
  });
}

void weighted_sum_backward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& gy,
                           const std::vector<Tensor>& gxs, const Tensor& gweights) {
  const int64_t n = gy.numel();
  const size_t count = gxs.size();  // xs is empty when the weights need no gradient
  const bool dots = gweights.defined();
  dispatch_floating(gy.dtype(), "weighted_sum backward", [&]<typename T>() {
    std::vector<const T*> px(count, nullptr);
    std::vector<T*> pgx(count, nullptr);
    for (size_t i = 0; i < count; ++i) {
      if (dots) px[i] = xs[i].data<T>();
      if (gxs[i].defined()) pgx[i] = gxs[i].data<T>();
    }
    const T* w = weights.data<T>();
    const T* g = gy.data<T>();
    const int64_t chunks = (n + kBackwardChunk - 1) / kBackwardChunk;
    std::vector<double> partial(dots ? chunks * count : 0);
    parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        const int64_t lo = c * kBackwardChunk;
        const int64_t len = std::min(n, lo + kBackwardChunk) - lo;
        const T* gc = g + lo;
        for (size_t i = 0; i < count; ++i) {
          T* gx = pgx[i] ? pgx[i] + lo : nullptr;
          const T wi = w[i];
          if (dots) {
            const T* x = px[i] + lo;
            double acc = 0;
            if (gx) {
#pragma omp simd reduction(+ : acc)
              for (int64_t j = 0; j < len; ++j) {
                gx[j] = wi * gc[j];
                acc += static_cast<double>(gc[j]) * static_cast<double>(x[j]);
              }
            } else {
#pragma omp simd reduction(+ : acc)
              for (int64_t j = 0; j < len; ++j) {
                acc += static_cast<double>(gc[j]) * static_cast<double>(x[j]);
              }
            }
            partial[c * count + i] = acc;
          } else if (gx) {
            for (int64_t j = 0; j < len; ++j) gx[j] = wi * gc[j];
          }
        }
      }
    });
    if (dots) {
      T* gw = gweights.data<T>();
      for (size_t i = 0; i < count; ++i) {
        double total = 0;
        for (int64_t c = 0; c < chunks; ++c) total += partial[c * count + i];
        gw[i] = static_cast<T>(total);
      }
    }
  });
}

}  // namespace fusenas::cpu
