// CUDA launchers for NHWC max/avg pooling and global average pooling.
#include "ops/cuda/pool2d.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/pool2d.h"

namespace fusenas::cuda {
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::max_pool2d_forward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                             stream_for(x)),
                 "max_pool2d");
}

void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dGeometry& g) {
  // One int per output: the winning tap of each window (bytes, as the engine has no int32).
  Tensor argmax = Tensor::empty({y.numel() * 4}, y.options().with_dtype(DType::UInt8));
  FUSENAS_LAUNCH(kernels::max_pool2d_backward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                              gy.raw_data(), gx.raw_data(),
                                              static_cast<int*>(argmax.raw_data()), stream_for(x)),
                 "max_pool2d backward");
}

void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::avg_pool2d_forward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                             stream_for(x)),
                 "avg_pool2d");
}

void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::avg_pool2d_backward(scalar_type(gy.dtype()), g, gy.raw_data(),
                                              gx.raw_data(), stream_for(gy)),
                 "avg_pool2d backward");
}

void global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  FUSENAS_LAUNCH(kernels::global_avg_pool_forward(scalar_type(x.dtype()), x.shape()[0],
                                                  x.shape()[1] * x.shape()[2], x.shape()[3],
                                                  x.raw_data(), y.raw_data(), stream_for(x)),
                 "global_avg_pool");
}

void global_avg_pool_backward(const Tensor& gy, const Tensor& gx) {
  FUSENAS_LAUNCH(kernels::global_avg_pool_backward(scalar_type(gy.dtype()), gx.shape()[0],
                                                   gx.shape()[1] * gx.shape()[2], gx.shape()[3],
                                                   gy.raw_data(), gx.raw_data(), stream_for(gy)),
                 "global_avg_pool backward");
}

}  // namespace fusenas::cuda
