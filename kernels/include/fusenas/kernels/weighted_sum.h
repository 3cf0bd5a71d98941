// Raw kernels for the DARTS MixedOp weighted sum out = sum_i weights[i] * xs[i] over n elements.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// xs[count] and out are contiguous device arrays of n elements; weights is a device array [count].
cudaError_t weighted_sum_forward(ScalarType type, int64_t n, int count, const void* const* xs,
                                 const void* weights, void* out, cudaStream_t stream);

// Doubles of scratch weighted_sum_backward needs for n elements and `count` inputs.
int64_t weighted_sum_backward_partials(int64_t n, int count);
// gxs[i] = weights[i] * gy for every non-null gxs[i]; when gweights is non-null,
// gweights[i] = <gy, xs[i]> (double sums over fixed chunks, then over chunks in order, so the
// result does not depend on the launch). xs may be null when gweights is.
cudaError_t weighted_sum_backward(ScalarType type, int64_t n, int count, const void* const* xs,
                                  const void* weights, const void* gy, void* const* gxs,
                                  void* gweights, double* partials, cudaStream_t stream);

}  // namespace fusenas::kernels
