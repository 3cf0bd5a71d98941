// Raw dropout / drop_path kernels with the engine's Philox mask draw: unit i (element or sample)
// is kept when philox_uniform(philox4x32(seed, first_block + i / 4).v[i % 4]) < threshold.
#pragma once

#include <cstdint>

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// mask[i] = keep(i) (0/1 bytes), y[i] = x[i] * (keep(i) ? scale : 0) for i < n.
cudaError_t dropout_forward(ScalarType type, int64_t n, const void* x, void* y, uint8_t* mask,
                            float threshold, double scale, uint64_t seed, uint64_t first_block,
                            cudaStream_t stream);
// mask[s] = keep(s) for each of `samples` samples; y[i] = x[i] * (mask[i / inner] ? scale : 0)
// for i < n (n = samples * inner, or 0 for empty samples).
cudaError_t drop_path_forward(ScalarType type, int64_t samples, int64_t n, int64_t inner,
                              const void* x, void* y, uint8_t* mask, float threshold, double scale,
                              uint64_t seed, uint64_t first_block, cudaStream_t stream);
// out[i] = g[i] * (mask[i / inner] ? scale : 0) for i < n: both backward passes.
cudaError_t masked_scale(ScalarType type, int64_t n, int64_t inner, const void* g,
                         const uint8_t* mask, void* out, double scale, cudaStream_t stream);

}  // namespace fusenas::kernels
