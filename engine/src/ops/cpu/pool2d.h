// CPU kernels for NHWC max/avg pooling and global average pooling, forward and backward.
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/pool2d_geometry.h"

namespace fusenas {

// The sizes of one pooling call, shared with the raw CUDA kernels.
using Pool2dGeometry = kernels::Pool2dGeometry;

namespace cpu {
// x [N, H, W, C] and y [N, OH, OW, C], both contiguous. Padding never wins the max.
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g);
// gx = d/dx with every gy routed to the first tap (row-major in the window) equal to y, i.e. the
// first maximum, as PyTorch does. x, y, gy, gx contiguous; gx is fully overwritten.
void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dGeometry& g);
void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g);
// gy [N, OH, OW, C] -> gx [N, H, W, C], both contiguous; gx is fully overwritten.
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g);
// x [N, H, W, C] -> y [N, C], mean over H and W; both contiguous.
void global_avg_pool_forward(const Tensor& x, const Tensor& y);
// gy [N, C] -> gx [N, H, W, C] = gy / (H * W) broadcast; both contiguous.
void global_avg_pool_backward(const Tensor& gy, const Tensor& gx);
}  // namespace cpu

}  // namespace fusenas
