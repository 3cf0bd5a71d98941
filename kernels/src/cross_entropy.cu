// Raw cross-entropy kernels: one warp per row for the logsumexp (double sums, as on the CPU), then
// one block sums the per-row losses in a fixed order, so the loss is deterministic.
#include "common.cuh"
#include "fusenas/kernels/cross_entropy.h"

namespace fusenas::kernels {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block, one row each

template <typename T>
__global__ void row_loss_kernel(int64_t n, int64_t k, const T* x, const int64_t* labels, T* lse,
                                double* row_loss) {
  const int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.y;
  if (row >= n) return;
  const T* xr = x + row * k;
  T m = -detail::infinity<T>();
  for (int64_t i = threadIdx.x; i < k; i += 32) m = detail::cpu_max(m, xr[i]);
  m = detail::warp_max(m);
  double s = 0;
  for (int64_t i = threadIdx.x; i < k; i += 32) s += static_cast<double>(exp(xr[i] - m));
  s = detail::warp_sum(s);
  if (threadIdx.x == 0) {
    const double l = static_cast<double>(m) + ::log(s);
    lse[row] = static_cast<T>(l);
    const int64_t label = labels[row];
    row_loss[row] =
        label >= 0 && label < k ? l - static_cast<double>(xr[label]) : detail::quiet_nan<double>();
  }
}

template <typename T>
__global__ void mean_kernel(int64_t n, const double* row_loss, T* loss) {
  __shared__ double scratch[32];
  double acc = 0;
  for (int64_t r = threadIdx.x; r < n; r += blockDim.x) acc += row_loss[r];
  const double total = detail::block_sum(acc, scratch);
  if (threadIdx.x == 0) *loss = static_cast<T>(total / static_cast<double>(n));
}

template <typename T>
__global__ void backward_kernel(int64_t n, int64_t k, const T* x, const int64_t* labels,
                                const T* lse, const T* gloss, T* gx) {
  const T g = static_cast<T>(static_cast<double>(*gloss) / static_cast<double>(n));
  for (int64_t i = detail::thread_index(); i < n * k; i += detail::thread_count()) {
    const int64_t row = i / k;
    T v = g * exp(x[i] - lse[row]);
    if (i - row * k == labels[row]) v -= g;
    gx[i] = v;
  }
}

}  // namespace

cudaError_t cross_entropy_forward(ScalarType type, int64_t n, int64_t k, const void* logits,
                                  const int64_t* labels, void* loss, void* lse, double* row_loss,
                                  cudaStream_t stream) {
  if (n == 0 || k == 0) return cudaErrorInvalidValue;  // the op rejects empty logits
  return detail::with_float_type(type, [&]<typename T>() {
    row_loss_kernel<<<detail::blocks_for(n, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream>>>(
        n, k, static_cast<const T*>(logits), labels, static_cast<T*>(lse), row_loss);
    mean_kernel<<<1, 1024, 0, stream>>>(n, row_loss, static_cast<T*>(loss));
    return cudaGetLastError();
  });
}

cudaError_t cross_entropy_backward(ScalarType type, int64_t n, int64_t k, const void* logits,
                                   const int64_t* labels, const void* lse, const void* gloss,
                                   void* glogits, cudaStream_t stream) {
  if (n == 0 || k == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    backward_kernel<<<grid_for(n * k), detail::kThreads, 0, stream>>>(
        n, k, static_cast<const T*>(logits), labels, static_cast<const T*>(lse),
        static_cast<const T*>(gloss), static_cast<T*>(glogits));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
