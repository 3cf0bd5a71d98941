// Host stand-in for the cuBLAS calls FuseNAS makes: handles, math mode and (strided batched) GEMM.
#include <cblas.h>
#include <cublas_v2.h>

#include <algorithm>

#include "fusenas_emu/stream.h"

// The library's opaque handle. Only host pointer mode exists here, so alpha and beta are read at
// call time; the math mode is kept for fidelity but every product is exact FP32/FP64.
struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

namespace {

// One call's geometry, column-major as cuBLAS sees it. Strides are 0 for non-batched calls.
struct GemmShape {
  cublasOperation_t trans_a, trans_b;
  int m, n, k;
  int lda, ldb, ldc;
  long long stride_a, stride_b, stride_c;
  int batch;
};

bool valid_operation(cublasOperation_t op) {
  return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

// The argument checks cuBLAS documents for GEMM, in the order it applies them.
cublasStatus_t validate(cublasHandle_t handle, const GemmShape& s, const void* alpha,
                        const void* beta) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!valid_operation(s.trans_a) || !valid_operation(s.trans_b))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (s.m < 0 || s.n < 0 || s.k < 0 || s.batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  const int rows_a = s.trans_a == CUBLAS_OP_N ? s.m : s.k;
  const int rows_b = s.trans_b == CUBLAS_OP_N ? s.k : s.n;
  if (s.lda < std::max(1, rows_a) || s.ldb < std::max(1, rows_b) || s.ldc < std::max(1, s.m)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}

// Real cuBLAS would fault asynchronously on a null matrix; failing the call instead points at the
// caller rather than at a crash inside a replayed graph.
bool has_required_matrices(const GemmShape& s, const void* a, const void* b, const void* c) {
  if (c == nullptr) return false;
  return s.k == 0 || (a != nullptr && b != nullptr);
}

CBLAS_TRANSPOSE to_cblas(cublasOperation_t op) {
  // Real matrices: the conjugate transpose is the transpose.
  return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
}

void blas_gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta,
               float* c) {
  cblas_sgemm(CblasColMajor, to_cblas(s.trans_a), to_cblas(s.trans_b), s.m, s.n, s.k, alpha, a,
              s.lda, b, s.ldb, beta, c, s.ldc);
}

void blas_gemm(const GemmShape& s, double alpha, const double* a, const double* b, double beta,
               double* c) {
  cblas_dgemm(CblasColMajor, to_cblas(s.trans_a), to_cblas(s.trans_b), s.m, s.n, s.k, alpha, a,
              s.lda, b, s.ldb, beta, c, s.ldc);
}

// C = beta * C for the degenerate products (k == 0 or alpha == 0), where BLAS leaves A and B
// unread; beta == 0 overwrites, so NaNs already in C do not survive.
template <typename T>
void scale_matrix(const GemmShape& s, T beta, T* c) {
  for (int col = 0; col < s.n; ++col) {
    T* column = c + static_cast<long long>(col) * s.ldc;
    for (int row = 0; row < s.m; ++row) column[row] = beta == T(0) ? T(0) : beta * column[row];
  }
}

template <typename T>
void run_batches(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  const bool degenerate = s.k == 0 || alpha == T(0);
  for (long long i = 0; i < s.batch; ++i) {
    T* ci = c + i * s.stride_c;
    if (degenerate) {
      scale_matrix(s, beta, ci);
    } else {
      blas_gemm(s, alpha, a + i * s.stride_a, b + i * s.stride_b, beta, ci);
    }
  }
}

template <typename T>
cublasStatus_t submit_gemm(cublasHandle_t handle, const GemmShape& s, const T* alpha, const T* a,
                           const T* b, const T* beta, T* c) {
  if (const cublasStatus_t status = validate(handle, s, alpha, beta);
      status != CUBLAS_STATUS_SUCCESS) {
    return status;
  }
  if (s.m == 0 || s.n == 0 || s.batch == 0) return CUBLAS_STATUS_SUCCESS;
  if (!has_required_matrices(s, a, b, c)) return CUBLAS_STATUS_INVALID_VALUE;
  fusenas::emu::enqueue(handle->stream, [s, alpha = *alpha, a, b, beta = *beta, c] {
    run_batches(s, alpha, a, b, beta, c);
  });
  return CUBLAS_STATUS_SUCCESS;
}

bool valid_math_mode(cublasMath_t mode) {
  const int base = static_cast<int>(mode) & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  switch (base) {
    case CUBLAS_DEFAULT_MATH:
    case CUBLAS_TENSOR_OP_MATH:
    case CUBLAS_PEDANTIC_MATH:
    case CUBLAS_TF32_TENSOR_OP_MATH:
    case CUBLAS_FP32_EMULATED_BF16X9_MATH:
    case CUBLAS_FP64_EMULATED_FIXEDPOINT_MATH:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t streamId) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = streamId;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!valid_math_mode(mode)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "an error was detected when checking the current licensing";
  }
  return "unknown cuBLAS status";
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  const GemmShape s{transa, transb, m, n, k, lda, ldb, ldc, 0, 0, 0, 1};
  return submit_gemm(handle, s, alpha, A, B, beta, C);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const double* alpha,
                           const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  const GemmShape s{transa, transb, m, n, k, lda, ldb, ldc, 0, 0, 0, 1};
  return submit_gemm(handle, s, alpha, A, B, beta, C);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb,
                                         long long int strideB, const float* beta, float* C,
                                         int ldc, long long int strideC, int batchCount) {
  const GemmShape s{transa, transb, m, n, k, lda, ldb, ldc, strideA, strideB, strideC, batchCount};
  return submit_gemm(handle, s, alpha, A, B, beta, C);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const double* alpha, const double* A, int lda,
                                         long long int strideA, const double* B, int ldb,
                                         long long int strideB, const double* beta, double* C,
                                         int ldc, long long int strideC, int batchCount) {
  const GemmShape s{transa, transb, m, n, k, lda, ldb, ldc, strideA, strideB, strideC, batchCount};
  return submit_gemm(handle, s, alpha, A, B, beta, C);
}

}  // extern "C"
