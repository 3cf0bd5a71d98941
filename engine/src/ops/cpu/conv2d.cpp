// CPU conv2d entry points: picks the depthwise or the im2col + GEMM algorithm, and the bias
// gradient (per-channel sums of the output gradient).
#include "ops/cpu/conv2d.h"

#include <omp.h>

#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {

void conv2d_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                    const Tensor& bias, const Tensor& y) {
  if (g.depthwise()) {
    conv2d_depthwise_forward(g, x, weight, bias, y);
  } else {
    conv2d_gemm_forward(g, x, weight, bias, y);
  }
}

void conv2d_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                           const Tensor& gx) {
  if (g.depthwise()) {
    conv2d_depthwise_backward_input(g, gy, weight, gx);
  } else {
    conv2d_gemm_backward_input(g, gy, weight, gx);
  }
}

void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                            const Tensor& gw) {
  if (g.depthwise()) {
    conv2d_depthwise_backward_weight(g, gy, x, gw);
  } else {
    conv2d_gemm_backward_weight(g, gy, x, gw);
  }
}

void conv2d_backward_bias(const Conv2dGeometry& g, const Tensor& gy, const Tensor& gb) {
  const int64_t rows = g.n * g.ho * g.wo, c = g.cout;
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    const T* src = gy.data<T>();
    // Per-thread partial sums in double: float sums over N*H*W rows would drift from PyTorch's.
    const int threads = omp_get_max_threads();
    std::vector<double> part(static_cast<size_t>(threads) * c, 0.0);
    parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
                   double* acc = part.data() + static_cast<size_t>(omp_get_thread_num()) * c;
                   for (int64_t r = b; r < e; ++r) {
                     const T* row = src + r * c;
                     for (int64_t k = 0; k < c; ++k) acc[k] += row[k];
                   }
                 });
    T* out = gb.data<T>();
    for (int64_t k = 0; k < c; ++k) {
      double s = 0;
      for (int t = 0; t < threads; ++t) s += part[static_cast<size_t>(t) * c + k];
      out[k] = static_cast<T>(s);
    }
  });
}

}  // namespace fusenas::cpu
