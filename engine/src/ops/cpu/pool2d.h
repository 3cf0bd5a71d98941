// CPU kernels for NHWC max/avg pooling and global average pooling, forward and backward.
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas {

// Square window; the output is floor((H + 2 * padding - kernel) / stride) + 1 on each side.
// Callers guarantee padding <= kernel / 2, so every window holds at least one in-bounds tap.
struct Pool2dParams {
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  bool count_include_pad = false;  // avg pool only: divide by kernel^2 instead of in-bounds taps
};

namespace cpu {
// x [N, H, W, C] and y [N, OH, OW, C], both contiguous. Padding never wins the max.
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p);
// gx = d/dx with every gy routed to the first tap (row-major in the window) equal to y, i.e. the
// first maximum, as PyTorch does. x, y, gy, gx contiguous; gx is fully overwritten.
void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dParams& p);
void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p);
// gy [N, OH, OW, C] -> gx [N, H, W, C], both contiguous; gx is fully overwritten.
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dParams& p);
// x [N, H, W, C] -> y [N, C], mean over H and W; both contiguous.
void global_avg_pool_forward(const Tensor& x, const Tensor& y);
// gy [N, C] -> gx [N, H, W, C] = gy / (H * W) broadcast; both contiguous.
void global_avg_pool_backward(const Tensor& gy, const Tensor& gx);
}  // namespace cpu

}  // namespace fusenas
