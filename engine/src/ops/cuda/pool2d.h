// CUDA launchers for NHWC max/avg pooling and global average pooling (same contract as
// ops/cpu/pool2d.h).
#pragma once

#include "ops/cpu/pool2d.h"

namespace fusenas::cuda {
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g);
void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dGeometry& g);
void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g);
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g);
void global_avg_pool_forward(const Tensor& x, const Tensor& y);
void global_avg_pool_backward(const Tensor& gy, const Tensor& gx);
}  // namespace fusenas::cuda
