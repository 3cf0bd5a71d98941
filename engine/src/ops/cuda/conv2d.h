// CUDA launchers for conv2d (same contract as ops/cpu/conv2d.h; implemented by the CUDA pass).
#pragma once

#include "ops/cpu/conv2d.h"

namespace fusenas::cuda {
void conv2d_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                    const Tensor& bias, const Tensor& y);
void conv2d_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                           const Tensor& gx);
void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                            const Tensor& gw);
void conv2d_backward_bias(const Conv2dGeometry& g, const Tensor& gy, const Tensor& gb);
}  // namespace fusenas::cuda
