// CPU kernels for dropout (elementwise) and drop_path (per-sample) with Philox masks.
//
// The draw is specified so a CUDA kernel reproduces it exactly: unit i (element i for dropout,
// sample i for drop_path) is kept when
//   kernels::philox_uniform(kernels::philox4x32(seed, first_block + i / 4).v[i % 4])
//       < dropout_keep_threshold(p)
// where first_block came from Generator::reserve(ceil(units / 4)).
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas {

// Compared in float, as the uniform is a float with 24 random bits.
inline float dropout_keep_threshold(double p) {
  return static_cast<float>(1.0 - p);
}

namespace cpu {

// mask[i] = keep(i) as 0/1 bytes; y = x * mask * scale with scale = 1 / (1 - p). x, y, mask
// contiguous with x's shape.
void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p, uint64_t seed,
                     uint64_t first_block);
// gx = gy * mask * scale
void dropout_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale);
// mask [N] = keep(sample) as 0/1 bytes; y[n, ...] = x[n, ...] * mask[n] * scale.
void drop_path_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p,
                       uint64_t seed, uint64_t first_block);
// gx[n, ...] = gy[n, ...] * mask[n] * scale
void drop_path_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale);

}  // namespace cpu
}  // namespace fusenas
