// CPU kernels for softmax and log-softmax: one row per task, max-subtracted, double sums.
#include "ops/cpu/softmax.h"

#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

int64_t rows_of(const Tensor& t) {
  const int64_t k = t.shape().back();
  return k == 0 ? 0 : t.numel() / k;
}

// Rows per task so that a task touches about 16k elements.
int64_t row_grain(int64_t k) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1));
}

}  // namespace

void softmax_forward(const Tensor& x, const Tensor& y, bool log) {
  const int64_t k = x.shape().back();
  const int64_t rows = rows_of(x);
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&]<typename T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_for(rows, row_grain(k), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* xr = px + r * k;
        T* yr = py + r * k;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t i = 0; i < k; ++i) m = std::max(m, xr[i]);
        double s = 0;
        if (log) {
          for (int64_t i = 0; i < k; ++i) s += std::exp(xr[i] - m);
          const T log_s = static_cast<T>(std::log(s));
          for (int64_t i = 0; i < k; ++i) yr[i] = (xr[i] - m) - log_s;
        } else {
          for (int64_t i = 0; i < k; ++i) {
            const T v = std::exp(xr[i] - m);
            yr[i] = v;
            s += v;
          }
          const T inv = static_cast<T>(1.0 / s);
          for (int64_t i = 0; i < k; ++i) yr[i] *= inv;
        }
      }
    });
  });
}

void softmax_backward(const Tensor& gy, const Tensor& y, const Tensor& gx, bool log) {
  const int64_t k = y.shape().back();
  const int64_t rows = rows_of(y);
  dispatch_floating(y.dtype(), log ? "log_softmax backward" : "softmax backward",
                    [&]<typename T>() {
                      const T* pg = gy.data<T>();
                      const T* py = y.data<T>();
                      T* pgx = gx.data<T>();
                      parallel_for(rows, row_grain(k), [&](int64_t b, int64_t e) {
                        for (int64_t r = b; r < e; ++r) {
                          const T* g = pg + r * k;
                          const T* yr = py + r * k;
                          T* out = pgx + r * k;
                          double acc = 0;
                          if (log) {
                            for (int64_t i = 0; i < k; ++i) acc += g[i];
                            const T s = static_cast<T>(acc);
                            for (int64_t i = 0; i < k; ++i) out[i] = g[i] - std::exp(yr[i]) * s;
                          } else {
                            for (int64_t i = 0; i < k; ++i)
                              acc += static_cast<double>(g[i]) * yr[i];
                            const T d = static_cast<T>(acc);
                            for (int64_t i = 0; i < k; ++i) out[i] = yr[i] * (g[i] - d);
                          }
                        }
                      });
                    });
}

}  // namespace fusenas::cpu
