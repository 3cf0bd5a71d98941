// Raw timing aid: a one-thread kernel that spins on the global nanosecond timer.
#include "fusenas/kernels/timing.h"

namespace fusenas::kernels {
namespace {

__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(int64_t nanoseconds) {
  const uint64_t start = global_ns();
  // The timer ticks in coarse steps on some parts: a short nap keeps the loop cheap.
  while (global_ns() - start < static_cast<uint64_t>(nanoseconds)) __nanosleep(256);
}

}  // namespace

cudaError_t spin(int64_t nanoseconds, cudaStream_t stream) {
  if (nanoseconds <= 0) return cudaSuccess;
  spin_kernel<<<1, 1, 0, stream>>>(nanoseconds);
  return cudaGetLastError();
}

}  // namespace fusenas::kernels
