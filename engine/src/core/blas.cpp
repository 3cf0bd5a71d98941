// GEMM through OpenBLAS' CBLAS interface, parallelised by the engine's OpenMP threads.
//
// OpenBLAS always runs single-threaded: on small machines its own pthreads and OpenMP's
// spin-waiting workers take turns on the cores (measured 5-10x slowdowns on 2 cores). Large
// products are instead split into row or column blocks over OpenMP, and products issued from
// inside a parallel region simply run on the calling thread.
#include "core/blas.h"

#include <cblas.h>
#include <omp.h>

#include <mutex>

namespace fusenas {
namespace {

void keep_openblas_serial() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Below this many multiply-adds a split costs more than it saves.
constexpr int64_t kParallelWork = int64_t{1} << 20;

template <typename T>
void cblas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const auto opa = ta ? CblasTrans : CblasNoTrans;
  const auto opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

template <typename T>
void gemm_impl(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
               const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  keep_openblas_serial();
  const int threads = omp_get_max_threads();
  if (threads == 1 || omp_in_parallel() || m * n * k < kParallelWork) {
    cblas_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Rows of C when there are enough of them, otherwise columns.
  const bool by_rows = m >= n || m >= 64 * threads;
  const int64_t extent = by_rows ? m : n;
  const int64_t parts = std::min<int64_t>(threads, (extent + 15) / 16);
#pragma omp parallel for num_threads(static_cast <int>(parts)) schedule(static, 1)
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t lo = extent * p / parts, hi = extent * (p + 1) / parts;
    if (hi == lo) continue;
    if (by_rows) {
      const T* a_part = ta ? a + lo : a + lo * lda;
      cblas_gemm(ta, tb, hi - lo, n, k, alpha, a_part, lda, b, ldb, beta, c + lo * ldc, ldc);
    } else {
      const T* b_part = tb ? b + lo * ldb : b + lo;
      cblas_gemm(ta, tb, m, hi - lo, k, alpha, a, lda, b_part, ldb, beta, c + lo, ldc);
    }
  }
}

}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace fusenas
