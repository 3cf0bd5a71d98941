// cuDNN convolutions for float32 dense and grouped conv2d (NHWC tensors, KRSC = [C_out, kH, kW,
// C_in/groups] filters). Each returns false, having done nothing, when cuDNN offers no usable
// algorithm for the shape; the caller then runs the direct kernels.
#pragma once

#include "ops/cpu/conv2d.h"

namespace fusenas::cuda {
bool cudnn_conv_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                        const Tensor& y);
bool cudnn_conv_backward_data(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                              const Tensor& gx);
bool cudnn_conv_backward_filter(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                const Tensor& gw);
}  // namespace fusenas::cuda
