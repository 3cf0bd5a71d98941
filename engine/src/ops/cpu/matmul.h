// CPU kernel for (batched) matrix products through OpenBLAS.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// out[b] = op(a[b]) @ op(b[b]) for contiguous [B, ., .] operands (B may be 1).
void batched_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& out,
                  double beta = 0.0);

}  // namespace fusenas::cpu
