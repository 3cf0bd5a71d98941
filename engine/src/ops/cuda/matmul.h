// CUDA launcher for (batched) matrix products through cuBLAS (same contract as ops/cpu/matmul.h).
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {
void batched_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& out,
                  double beta = 0.0);
}  // namespace fusenas::cuda
