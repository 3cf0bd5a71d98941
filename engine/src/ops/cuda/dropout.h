// CUDA launchers for dropout and drop_path (same contract and Philox draw as ops/cpu/dropout.h).
#pragma once

#include <cstdint>

#include "ops/cpu/dropout.h"

namespace fusenas::cuda {
void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p, uint64_t seed,
                     uint64_t first_block);
void dropout_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale);
void drop_path_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p,
                       uint64_t seed, uint64_t first_block);
void drop_path_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale);
}  // namespace fusenas::cuda
