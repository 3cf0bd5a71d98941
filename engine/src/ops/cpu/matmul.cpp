// CPU kernel for (batched) matrix products through OpenBLAS.
#include "ops/cpu/matmul.h"

#include "core/blas.h"
#include "core/dispatch.h"

namespace fusenas::cpu {

void batched_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& out,
                  double beta) {
  const int64_t batch = out.shape()[0];
  const int64_t m = out.shape()[1], n = out.shape()[2];
  const int64_t k = trans_a ? a.shape()[1] : a.shape()[2];
  dispatch_floating(out.dtype(), "matmul", [&]<typename T>() {
    for (int64_t i = 0; i < batch; ++i) {
      const T* pa = a.data<T>() + i * a.shape()[1] * a.shape()[2];
      const T* pb = b.data<T>() + i * b.shape()[1] * b.shape()[2];
      T* po = out.data<T>() + i * m * n;
      gemm<T>(trans_a, trans_b, m, n, k, T(1), pa, a.shape()[2], pb, b.shape()[2],
              static_cast<T>(beta), po, n);
    }
  });
}

}  // namespace fusenas::cpu
