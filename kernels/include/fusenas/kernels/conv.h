// Raw conv2d kernels on NHWC activations [n, h, w, cin] and weights [cout, kh, kw, cin / groups]:
// depthwise convolution (groups == cin, optionally a channel multiplier cout = m * cin), a direct
// dense/grouped convolution (the float64 path; float32 dense convs go through cuDNN), and the
// per-channel bias add.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

struct ConvShape {
  int64_t n = 0, h = 0, w = 0, cin = 0;  // input
  int64_t cout = 0, kh = 0, kw = 0;      // weight
  int64_t ho = 0, wo = 0;                // output
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

// Depthwise: output channel k reads input channel k / (cout / cin). bias may be null.
cudaError_t depthwise_conv_forward(ScalarType type, const ConvShape& s, const void* x,
                                   const void* weight, const void* bias, void* y,
                                   cudaStream_t stream);
cudaError_t depthwise_conv_backward_input(ScalarType type, const ConvShape& s, const void* gy,
                                          const void* weight, void* gx, cudaStream_t stream);
// Doubles of scratch depthwise_conv_backward_weight needs.
int64_t depthwise_conv_weight_workspace(const ConvShape& s);
// Per-slab partial sums, then the slabs added in order: deterministic, no atomics.
cudaError_t depthwise_conv_backward_weight(ScalarType type, const ConvShape& s, const void* gy,
                                           const void* x, void* gw, double* workspace,
                                           cudaStream_t stream);

// Direct convolution for any groups (one thread per output, input or weight element).
cudaError_t direct_conv_forward(ScalarType type, const ConvShape& s, const void* x,
                                const void* weight, const void* bias, void* y, cudaStream_t stream);
cudaError_t direct_conv_backward_input(ScalarType type, const ConvShape& s, const void* gy,
                                       const void* weight, void* gx, cudaStream_t stream);
cudaError_t direct_conv_backward_weight(ScalarType type, const ConvShape& s, const void* gy,
                                        const void* x, void* gw, cudaStream_t stream);

// y[r, ch] += bias[ch] over contiguous [rows, c].
cudaError_t add_channel_bias(ScalarType type, int64_t rows, int64_t c, void* y, const void* bias,
                             cudaStream_t stream);

}  // namespace fusenas::kernels
