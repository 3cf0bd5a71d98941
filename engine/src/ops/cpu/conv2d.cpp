// CPU conv2d entry points: picks the depthwise, direct or im2col + GEMM algorithm, and the bias
// gradient (per-channel sums of the output gradient).
#include "ops/cpu/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

// The direct kernels stream a tile's filter slice (kh * kw * cin_g inputs per output channel)
// once per pixel tile, and beat im2col + OpenBLAS while that slice is short (measured: 3x3 with
// 64 input channels direct wins, with 256 OpenBLAS wins). A 1x1 stride-1 conv needs no im2col,
// so OpenBLAS takes over sooner there (direct wins at 32 channels, loses at 256).
bool direct(const Conv2dGeometry& g) {
  return g.kh * g.kw * g.cin_g() <= (g.pointwise() ? 128 : 1152);
}

}  // namespace

void conv2d_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                    const Tensor& bias, const Tensor& y) {
  if (g.depthwise()) {
    conv2d_depthwise_forward(g, x, weight, bias, y);
  } else if (direct(g)) {
    conv2d_direct_forward(g, x, weight, bias, y);
  } else {
    conv2d_gemm_forward(g, x, weight, bias, y);
  }
}

void conv2d_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                           const Tensor& gx) {
  if (g.depthwise()) {
    conv2d_depthwise_backward_input(g, gy, weight, gx);
  } else if (direct(g) && conv2d_direct_input_ok(g)) {
    conv2d_direct_backward_input(g, gy, weight, gx);
  } else {
    conv2d_gemm_backward_input(g, gy, weight, gx);
  }
}

void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                            const Tensor& gw) {
  if (g.depthwise()) {
    conv2d_depthwise_backward_weight(g, gy, x, gw);
  } else if (direct(g)) {
    conv2d_direct_backward_weight(g, gy, x, gw);
  } else {
    conv2d_gemm_backward_weight(g, gy, x, gw);
  }
}

void conv2d_backward_bias(const Conv2dGeometry& g, const Tensor& gy, const Tensor& gb) {
  const int64_t rows = g.n * g.ho * g.wo, c = g.cout;
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    const T* src = gy.data<T>();
    // Per-thread sums in double (float sums over N*H*W rows drift from PyTorch's), fed by
    // vectorisable float sums over blocks of 256 rows.
    const int threads = omp_get_max_threads();
    std::vector<double> part(static_cast<size_t>(threads) * c, 0.0);
    parallel_for(rows, std::max<int64_t>(256, 65536 / std::max<int64_t>(c, 1)),
                 [&](int64_t b, int64_t e) {
                   double* acc = part.data() + static_cast<size_t>(omp_get_thread_num()) * c;
                   std::vector<T> block(static_cast<size_t>(c));
                   for (int64_t r0 = b; r0 < e; r0 += 256) {
                     std::fill(block.begin(), block.end(), T(0));
                     T* __restrict blk = block.data();
                     for (int64_t r = r0; r < std::min(e, r0 + 256); ++r) {
                       const T* __restrict row = src + r * c;
                       for (int64_t k = 0; k < c; ++k) blk[k] += row[k];
                     }
                     for (int64_t k = 0; k < c; ++k) acc[k] += blk[k];
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
