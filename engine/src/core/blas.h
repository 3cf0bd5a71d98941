// Row-major GEMM over OpenBLAS for float and double, split over the engine's OpenMP threads.
#pragma once

#include <cstdint>

namespace fusenas {

// C[M,N] = alpha * op(A) op(B) + beta * C, all row-major. op(X) = X^T when trans_x.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace fusenas
