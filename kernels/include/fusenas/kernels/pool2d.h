// Raw NHWC pooling kernels: max/avg pooling with a square window, global average pooling.
#pragma once

#include "fusenas/kernels/launch.h"
#include "fusenas/kernels/pool2d_geometry.h"

namespace fusenas::kernels {

// Padding never wins; a NaN tap makes the output NaN.
cudaError_t max_pool2d_forward(ScalarType type, const Pool2dGeometry& s, const void* x, void* y,
                               cudaStream_t stream);
// gx gets every gy at the first tap (row-major) equal to y, or NaN when y is NaN. `argmax` is
// n * oh * ow * c ints of scratch.
cudaError_t max_pool2d_backward(ScalarType type, const Pool2dGeometry& s, const void* x,
                                const void* y, const void* gy, void* gx, int* argmax,
                                cudaStream_t stream);
cudaError_t avg_pool2d_forward(ScalarType type, const Pool2dGeometry& s, const void* x, void* y,
                               cudaStream_t stream);
cudaError_t avg_pool2d_backward(ScalarType type, const Pool2dGeometry& s, const void* gy, void* gx,
                                cudaStream_t stream);
// [n, hw, c] -> [n, c] mean over hw, and its backward gx = gy / hw broadcast.
cudaError_t global_avg_pool_forward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                    const void* x, void* y, cudaStream_t stream);
cudaError_t global_avg_pool_backward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                     const void* gy, void* gx, cudaStream_t stream);

}  // namespace fusenas::kernels
