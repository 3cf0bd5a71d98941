// CPU kernels for conv2d (NHWC activations, [C_out, kH, kW, C_in/groups] weights), on the
// geometry every conv2d backend shares (fusenas/kernels/conv2d_geometry.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "fusenas/engine/ops.h"
#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/conv2d_geometry.h"

namespace fusenas {

// The sizes of one conv2d call, shared with the raw CUDA kernels.
using Conv2dGeometry = kernels::Conv2dGeometry;

namespace cpu {

// All tensors are contiguous and of one floating dtype; outputs are preallocated and fully
// overwritten. `bias` may be undefined.
void conv2d_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                    const Tensor& bias, const Tensor& y);
void conv2d_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                           const Tensor& gx);
void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                            const Tensor& gw);
void conv2d_backward_bias(const Conv2dGeometry& g, const Tensor& gy, const Tensor& gb);

// The algorithms behind the entry points above: im2col + GEMM (conv2d_gemm.cpp), direct
// register-tiled dense convs (conv2d_direct.cpp) and channel-vectorised depthwise loops
// (conv2d_depthwise.cpp).
void conv2d_gemm_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                         const Tensor& bias, const Tensor& y);
void conv2d_gemm_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                                const Tensor& gx);
void conv2d_gemm_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                 const Tensor& gw);
void conv2d_direct_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                           const Tensor& bias, const Tensor& y);
// The direct input gradient handles stride 1 with padding at most dilation * (k - 1).
bool conv2d_direct_input_ok(const Conv2dGeometry& g);
void conv2d_direct_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                                  const Tensor& gx);
void conv2d_direct_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                   const Tensor& gw);
void conv2d_depthwise_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                              const Tensor& bias, const Tensor& y);
void conv2d_depthwise_backward_input(const Conv2dGeometry& g, const Tensor& gy,
                                     const Tensor& weight, const Tensor& gx);
void conv2d_depthwise_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                      const Tensor& gw);

// Kernel taps [lo, hi) of a window starting at `base` (stride-scaled output position minus
// padding) with `k` taps `d` apart that land inside [0, size).
inline void conv_tap_range(int64_t base, int64_t k, int64_t d, int64_t size, int64_t& lo,
                           int64_t& hi) {
  lo = base < 0 ? (-base + d - 1) / d : 0;
  hi = base > size - 1 ? 0 : std::min(k, (size - 1 - base) / d + 1);
  hi = std::max(hi, lo);
}

// Output positions [lo, hi) whose whole window lies inside the input (no padding touched).
inline void conv_interior(int64_t out, int64_t size, int64_t k, int64_t stride, int64_t pad,
                          int64_t d, int64_t& lo, int64_t& hi) {
  lo = std::min(out, (pad + stride - 1) / stride);
  const int64_t last = size - 1 - (k - 1) * d + pad;  // largest allowed stride * o
  hi = last < 0 ? lo : std::clamp(last / stride + 1, lo, out);
}

// For every input position along one axis, the (tap, output position) pairs whose window reads
// it: the gather form of a conv's input gradient, which lets threads own disjoint input rows.
struct ConvTapIndex {
  std::vector<int64_t> start;  // pairs of position q are [start[q], start[q + 1])
  std::vector<int64_t> tap, out;

  ConvTapIndex(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t d, int64_t outs) {
    start.reserve(size + 1);
    for (int64_t q = 0; q < size; ++q) {
      start.push_back(static_cast<int64_t>(tap.size()));
      for (int64_t t = 0; t < k; ++t) {
        const int64_t s = q + pad - t * d;
        if (s >= 0 && s % stride == 0 && s / stride < outs) {
          tap.push_back(t);
          out.push_back(s / stride);
        }
      }
    }
    start.push_back(static_cast<int64_t>(tap.size()));
  }
};

}  // namespace cpu
}  // namespace fusenas
