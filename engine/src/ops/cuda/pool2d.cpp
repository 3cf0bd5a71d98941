// CUDA launchers for NHWC max/avg pooling and global average pooling.
#include "ops/cuda/pool2d.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/pool2d.h"

namespace fusenas::cuda {
namespace {

// One operation (a compare or an add) per window tap of every output.
int64_t window_ops(const Pool2dGeometry& g) {
  return g.n * g.oh * g.ow * g.c * g.kernel * g.kernel;
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::max_pool2d_forward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                             stream_for(x)),
                 "max_pool2d", LaunchCost(bytes_of(x) + bytes_of(y), window_ops(g)));
}

void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dGeometry& g) {
  // One int per output: the winning tap of each window (bytes, as the engine has no int32).
  Tensor argmax = Tensor::empty({y.numel() * 4}, y.options().with_dtype(DType::UInt8));
  FUSENAS_LAUNCH(
      kernels::max_pool2d_backward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                   gy.raw_data(), gx.raw_data(),
                                   static_cast<int*>(argmax.raw_data()), stream_for(x)),
      // x and y to find each window's winner, gy read, gx written, the winners'
      // indices written then read back.
      "max_pool2d backward",
      LaunchCost(bytes_of(x) + bytes_of(y) + bytes_of(gy) + bytes_of(gx) + 2 * bytes_of(argmax),
                 window_ops(g)));
}

void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::avg_pool2d_forward(scalar_type(x.dtype()), g, x.raw_data(), y.raw_data(),
                                             stream_for(x)),
                 "avg_pool2d", LaunchCost(bytes_of(x) + bytes_of(y), window_ops(g)));
}

void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g) {
  FUSENAS_LAUNCH(kernels::avg_pool2d_backward(scalar_type(gy.dtype()), g, gy.raw_data(),
                                              gx.raw_data(), stream_for(gy)),
                 "avg_pool2d backward", LaunchCost(bytes_of(gy) + bytes_of(gx), window_ops(g)));
}

void global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  FUSENAS_LAUNCH(kernels::global_avg_pool_forward(scalar_type(x.dtype()), x.shape()[0],
                                                  x.shape()[1] * x.shape()[2], x.shape()[3],
                                                  x.raw_data(), y.raw_data(), stream_for(x)),
                 "global_avg_pool", LaunchCost(bytes_of(x) + bytes_of(y), x.numel()));
}

void global_avg_pool_backward(const Tensor& gy, const Tensor& gx) {
  FUSENAS_LAUNCH(kernels::global_avg_pool_backward(scalar_type(gy.dtype()), gx.shape()[0],
                                                   gx.shape()[1] * gx.shape()[2], gx.shape()[3],
                                                   gy.raw_data(), gx.raw_data(), stream_for(gy)),
                 "global_avg_pool backward", LaunchCost(bytes_of(gy) + bytes_of(gx), gx.numel()));
}

}  // namespace fusenas::cuda
