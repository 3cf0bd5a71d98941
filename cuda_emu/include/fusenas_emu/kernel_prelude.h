// Included first by every kernels/ source translated for the emulator: maps CUDA's device dialect
// (qualifiers, built-in indices, barriers, warp shuffles, atomics, device math) onto host C++.
#pragma once

// The real headers first, while CUDA's qualifier macros still mean what those headers expect.
#include <cuda_runtime.h>
#include <math.h>
#include <cuda/std/limits>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fusenas_emu/simt.h"

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Blocks run one at a time, so a function-static array is exactly one block's shared memory.
#define __shared__ static
#define __launch_bounds__(...)

#define threadIdx (::fusenas::emu::thread_index())
#define blockIdx (::fusenas::emu::block_index())
#define blockDim (::fusenas::emu::block_dim())
#define gridDim (::fusenas::emu::grid_dim())

inline void __syncthreads() {
  ::fusenas::emu::sync_block();
}
// One thread runs at a time and blocks run in turn, so every write is already visible to all.
inline void __threadfence() {}

namespace fusenas::emu::detail {
template <typename T>
T shuffle(unsigned mask, T v, ShuffleKind kind, int arg, int width) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>);
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_shuffle(mask, bits, kind, arg, width);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}
}  // namespace fusenas::emu::detail

template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::fusenas::emu::detail::shuffle(mask, v, ::fusenas::emu::ShuffleKind::Xor, lane_mask,
                                         width);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::fusenas::emu::detail::shuffle(mask, v, ::fusenas::emu::ShuffleKind::Down, int(delta),
                                         width);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::fusenas::emu::detail::shuffle(mask, v, ::fusenas::emu::ShuffleKind::Up, int(delta),
                                         width);
}
template <typename T>
T __shfl_sync(unsigned mask, T v, int lane, int width = 32) {
  return ::fusenas::emu::detail::shuffle(mask, v, ::fusenas::emu::ShuffleKind::Index, lane, width);
}

// The interpreter runs one thread at a time, so a read-modify-write is atomic by construction.
template <typename T>
T atomicAdd(T* address, T v) {
  const T old = *address;
  *address = old + v;
  return old;
}
template <typename T>
T atomicMin(T* address, T v) {
  const T old = *address;
  if (v < old) *address = v;
  return old;
}
template <typename T>
T atomicMax(T* address, T v) {
  const T old = *address;
  if (old < v) *address = v;
  return old;
}
template <typename T>
T atomicCAS(T* address, T compare, T v) {
  const T old = *address;
  if (old == compare) *address = v;
  return old;
}

// CUDA's device min/max accept mixed argument types.
template <typename A, typename B>
std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return C(b) < C(a) ? C(b) : C(a);
}
template <typename A, typename B>
std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return C(a) < C(b) ? C(b) : C(a);
}
inline float rsqrtf(float x) {
  return 1.0f / sqrtf(x);
}
inline double rsqrt(double x) {
  return 1.0 / sqrt(x);
}
inline void __nanosleep(unsigned) {}
