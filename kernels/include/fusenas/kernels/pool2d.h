// Raw NHWC pooling kernels: max/avg pooling with a square window, global average pooling.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Input [n, h, w, c] -> output [n, oh, ow, c]; every window holds an in-bounds tap.
struct PoolShape {
  int64_t n = 0, h = 0, w = 0, c = 0, oh = 0, ow = 0;
  int64_t kernel = 1, stride = 1, padding = 0;
  bool count_include_pad = false;  // avg only: divide by kernel^2 instead of the in-bounds taps
};

// Padding never wins; a NaN tap makes the output NaN.
cudaError_t max_pool2d_forward(ScalarType type, const PoolShape& s, const void* x, void* y,
                               cudaStream_t stream);
// gx gets every gy at the first tap (row-major) equal to y, or NaN when y is NaN. `argmax` is
// n * oh * ow * c ints of scratch.
cudaError_t max_pool2d_backward(ScalarType type, const PoolShape& s, const void* x, const void* y,
                                const void* gy, void* gx, int* argmax, cudaStream_t stream);
cudaError_t avg_pool2d_forward(ScalarType type, const PoolShape& s, const void* x, void* y,
                               cudaStream_t stream);
cudaError_t avg_pool2d_backward(ScalarType type, const PoolShape& s, const void* gy, void* gx,
                                cudaStream_t stream);
// [n, hw, c] -> [n, c] mean over hw, and its backward gx = gy / hw broadcast.
cudaError_t global_avg_pool_forward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                    const void* x, void* y, cudaStream_t stream);
cudaError_t global_avg_pool_backward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                     const void* gy, void* gx, cudaStream_t stream);

}  // namespace fusenas::kernels
