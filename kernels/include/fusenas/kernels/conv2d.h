// Raw conv2d kernels on NHWC activations [n, h, w, cin] and weights [cout, kh, kw, cin / groups]
// (sizes in conv2d_geometry.h): depthwise convolution (groups == cin, optionally a channel
// multiplier cout = m * cin), a direct dense/grouped convolution (the float64 path; float32 dense
// convs go through cuDNN), and the per-channel bias add.
#pragma once

#include "fusenas/kernels/conv2d_geometry.h"
#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Depthwise: output channel k reads input channel k / (cout / cin). bias may be null.
cudaError_t conv2d_depthwise_forward(ScalarType type, const Conv2dGeometry& s, const void* x,
                                     const void* weight, const void* bias, void* y,
                                     cudaStream_t stream);
cudaError_t conv2d_depthwise_backward_input(ScalarType type, const Conv2dGeometry& s,
                                            const void* gy, const void* weight, void* gx,
                                            cudaStream_t stream);
// Doubles of scratch conv2d_depthwise_backward_weight needs.
int64_t conv2d_depthwise_weight_workspace(const Conv2dGeometry& s);
// Per-slab partial sums, then the slabs added in order: deterministic, no atomics.
cudaError_t conv2d_depthwise_backward_weight(ScalarType type, const Conv2dGeometry& s,
                                             const void* gy, const void* x, void* gw,
                                             double* workspace, cudaStream_t stream);

// Direct convolution for any groups (one thread per output, input or weight element).
cudaError_t conv2d_direct_forward(ScalarType type, const Conv2dGeometry& s, const void* x,
                                  const void* weight, const void* bias, void* y,
                                  cudaStream_t stream);
cudaError_t conv2d_direct_backward_input(ScalarType type, const Conv2dGeometry& s, const void* gy,
                                         const void* weight, void* gx, cudaStream_t stream);
cudaError_t conv2d_direct_backward_weight(ScalarType type, const Conv2dGeometry& s, const void* gy,
                                          const void* x, void* gw, cudaStream_t stream);

// y[r, ch] += bias[ch] over contiguous [rows, c].
cudaError_t add_channel_bias(ScalarType type, int64_t rows, int64_t c, void* y, const void* bias,
                             cudaStream_t stream);

}  // namespace fusenas::kernels
