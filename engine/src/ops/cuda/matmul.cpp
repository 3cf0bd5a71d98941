// CUDA launcher for (batched) matrix products through cuBLAS.
#include "ops/cuda/matmul.h"

#include <limits>

#include "cuda/check.h"
#include "cuda/context.h"

namespace fusenas::cuda {

void batched_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& out,
                  double beta) {
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  const int64_t batch = out.shape()[0];
  // cuBLAS takes int sizes: refuse what would wrap rather than multiply the wrong matrices.
  for (const int64_t v :
       {batch, out.shape()[1], out.shape()[2], a.shape()[1], a.shape()[2], b.shape()[2]}) {
    FUSENAS_CHECK(v <= std::numeric_limits<int>::max(), "matmul: size {} is too large for cuBLAS",
                  v);
  }
  const int m = static_cast<int>(out.shape()[1]), n = static_cast<int>(out.shape()[2]);
  const int k = static_cast<int>(trans_a ? a.shape()[1] : a.shape()[2]);
  const int lda = static_cast<int>(a.shape()[2]), ldb = static_cast<int>(b.shape()[2]);
  const long long sa = a.shape()[1] * a.shape()[2], sb = b.shape()[1] * b.shape()[2],
                  sc = int64_t(m) * n;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasHandle_t h = context_for(out).cublas;
  // op(A), op(B) read and C written once (read too when beta accumulates); 2mnk per matrix.
  note_launch("cuBLAS gemm",
              LaunchCost(bytes_of(a) + bytes_of(b) + (beta != 0 ? 2 : 1) * bytes_of(out),
                         2 * batch * m * n * int64_t{k}));
  if (out.dtype() == DType::Float32) {
    const float alpha = 1.0f, bt = static_cast<float>(beta);
    FUSENAS_CUBLAS_CHECK(cublasSgemmStridedBatched(
        h, op_b, op_a, n, m, k, &alpha, b.data<float>(), ldb, sb, a.data<float>(), lda, sa, &bt,
        out.data<float>(), n, sc, static_cast<int>(batch)));
  } else {
    const double alpha = 1.0, bt = beta;
    FUSENAS_CUBLAS_CHECK(cublasDgemmStridedBatched(
        h, op_b, op_a, n, m, k, &alpha, b.data<double>(), ldb, sb, a.data<double>(), lda, sa, &bt,
        out.data<double>(), n, sc, static_cast<int>(batch)));
  }
}

}  // namespace fusenas::cuda
