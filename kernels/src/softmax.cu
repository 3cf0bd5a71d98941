// Raw softmax / log-softmax kernels: one warp per row, max-subtracted, sums in double like the CPU
// reference, combined in a fixed order so results are deterministic.
#include "common.cuh"
#include "fusenas/kernels/softmax.h"

namespace fusenas::kernels {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block, one row each

template <typename T>
__global__ void softmax_forward_kernel(int64_t rows, int64_t k, const T* x, T* y, bool log) {
  const int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.y;
  if (row >= rows) return;
  const T* xr = x + row * k;
  T* yr = y + row * k;
  T m = -detail::infinity<T>();
  for (int64_t i = threadIdx.x; i < k; i += 32) m = detail::cpu_max(m, xr[i]);
  m = detail::warp_max(m);
  double s = 0;
  for (int64_t i = threadIdx.x; i < k; i += 32) s += static_cast<double>(exp(xr[i] - m));
  s = detail::warp_sum(s);
  if (log) {
    const T log_s = static_cast<T>(::log(s));
    for (int64_t i = threadIdx.x; i < k; i += 32) yr[i] = (xr[i] - m) - log_s;
  } else {
    const T inv = static_cast<T>(1.0 / s);
    for (int64_t i = threadIdx.x; i < k; i += 32) yr[i] = exp(xr[i] - m) * inv;
  }
}

template <typename T>
__global__ void softmax_backward_kernel(int64_t rows, int64_t k, const T* gy, const T* y, T* gx,
                                        bool log) {
  const int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.y;
  if (row >= rows) return;
  const T* g = gy + row * k;
  const T* yr = y + row * k;
  T* out = gx + row * k;
  double acc = 0;
  if (log) {
    for (int64_t i = threadIdx.x; i < k; i += 32) acc += static_cast<double>(g[i]);
    const T s = static_cast<T>(detail::warp_sum(acc));
    for (int64_t i = threadIdx.x; i < k; i += 32) out[i] = g[i] - exp(yr[i]) * s;
  } else {
    for (int64_t i = threadIdx.x; i < k; i += 32) {
      acc += static_cast<double>(g[i]) * static_cast<double>(yr[i]);
    }
    const T d = static_cast<T>(detail::warp_sum(acc));
    for (int64_t i = threadIdx.x; i < k; i += 32) out[i] = yr[i] * (g[i] - d);
  }
}

unsigned row_blocks(int64_t rows) {
  return detail::blocks_for(rows, kRowsPerBlock);
}

}  // namespace

cudaError_t softmax_forward(ScalarType type, int64_t rows, int64_t k, const void* x, void* y,
                            bool log, cudaStream_t stream) {
  if (rows == 0 || k == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    softmax_forward_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock), 0, stream>>>(
        rows, k, static_cast<const T*>(x), static_cast<T*>(y), log);
    return cudaGetLastError();
  });
}

cudaError_t softmax_backward(ScalarType type, int64_t rows, int64_t k, const void* gy,
                             const void* y, void* gx, bool log, cudaStream_t stream) {
  if (rows == 0 || k == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    softmax_backward_kernel<<<row_blocks(rows), dim3(32, kRowsPerBlock), 0, stream>>>(
        rows, k, static_cast<const T*>(gy), static_cast<const T*>(y), static_cast<T*>(gx), log);
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
