// Private helpers of the raw kernel files: float-type dispatch, grid-stride indexing, NaN/inf
// constants and deterministic warp and block sums (fixed combination order, no atomics).
#pragma once

#include <cuda/std/limits>

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels::detail {

constexpr int kThreads = 256;  // default block size of 1-D launches

// Calls fn.template operator()<T>() with T = float or double.
template <typename F>
cudaError_t with_float_type(ScalarType type, F&& fn) {
  if (type == ScalarType::F32) return fn.template operator()<float>();
  if (type == ScalarType::F64) return fn.template operator()<double>();
  return cudaErrorInvalidValue;
}

// Blocks to launch for `units` units of work (one per thread), capped at CUDA's grid limit.
inline unsigned blocks_for(int64_t units, int threads = kThreads) {
  int64_t blocks = (units + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > 0x7fffffff) blocks = 0x7fffffff;
  return static_cast<unsigned>(blocks);
}

#if defined(__CUDACC__) || defined(FUSENAS_EMULATED_KERNELS)

__device__ __forceinline__ int64_t thread_index() {
  return blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t thread_count() {
  return int64_t(gridDim.x) * blockDim.x;
}

template <typename T>
__device__ __forceinline__ T quiet_nan() {
  return cuda::std::numeric_limits<T>::quiet_NaN();
}
template <typename T>
__device__ __forceinline__ T infinity() {
  return cuda::std::numeric_limits<T>::infinity();
}

// The CPU's std::max(a, b): b only when a < b, so a NaN b never replaces a.
template <typename T>
__device__ __forceinline__ T cpu_max(T a, T b) {
  return a < b ? b : a;
}

// Butterfly sums: every lane ends with the same value (each pairwise add is commutative).
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}
template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int off = 16; off > 0; off >>= 1) v = cpu_max(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

// Sum over a 1-D block of at most 1024 threads; the result is valid in thread 0. `scratch` holds
// 32 values. Callers that reuse `scratch` must __syncthreads() first.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = T(0);
  if (threadIdx.x == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    for (int i = 0; i < warps; ++i) total += scratch[i];
  }
  return total;
}

#endif  // __CUDACC__

}  // namespace fusenas::kernels::detail
