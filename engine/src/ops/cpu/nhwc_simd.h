// SIMD lanes and channel-chunk iteration shared by the NHWC CPU kernels (pooling, batch norm).
#pragma once

#include <cstdint>
#include <type_traits>

namespace fusenas::cpu {

// A 16-byte GCC/Clang vector (the SSE2 / NEON baseline). Kernels write their arithmetic once for
// a lane type L that is either Vec<T> or plain T (channel tails): +, *, comparisons, masks `|`
// and `mask ? a : b` mean the same for both, and the vector form compiles to packed instructions
// without intrinsics or relying on the auto-vectoriser.
template <typename T>
struct VecOf {
  typedef T type __attribute__((vector_size(16)));
  // Same vector at element alignment, for unaligned loads and stores. Accesses through it are
  // typed as T (GCC and Clang alias vectors with their element type), so the compiler knows a
  // store cannot change the sizes and pointers the kernels hold; a memcpy store would force it
  // to reload them after every vector.
  typedef T unaligned __attribute__((vector_size(16), aligned(alignof(T))));
};
template <typename T>
using Vec = typename VecOf<T>::type;

// Elements of T in one L.
template <typename L, typename T>
inline constexpr int64_t kWidth = static_cast<int64_t>(sizeof(L) / sizeof(T));

template <typename L, typename T>
inline L load(const T* p) {
  if constexpr (std::is_same_v<L, T>) {
    return *p;
  } else {
    return *reinterpret_cast<const typename VecOf<T>::unaligned*>(p);
  }
}

template <typename L, typename T>
inline void store(T* p, const L& v) {
  if constexpr (std::is_same_v<L, T>) {
    *p = v;
  } else {
    *reinterpret_cast<typename VecOf<T>::unaligned*>(p) = v;
  }
}

template <typename L, typename T>
inline L splat(T x) {
  if constexpr (std::is_same_v<L, T>) {
    return x;
  } else {
    return L{} + x;
  }
}

// Calls f.template operator()<L, K>(c) for channels [begin, end): K vectors L = Vec<T> per call
// (a cache line, then single vectors), then scalar L = T for the tail. NHWC keeps channels
// contiguous, and a compile-time chunk lets the compiler hold a chunk's accumulators in
// registers across a whole window or block of rows.
template <typename T, typename F>
inline void for_channel_chunks(int64_t begin, int64_t end, F&& f) {
  constexpr int64_t kLanes = kWidth<Vec<T>, T>;
  int64_t c = begin;
  for (; c + 4 * kLanes <= end; c += 4 * kLanes) f.template operator()<Vec<T>, 4>(c);
  for (; c + kLanes <= end; c += kLanes) f.template operator()<Vec<T>, 1>(c);
  for (; c < end; ++c) f.template operator()<T, 1>(c);
}

}  // namespace fusenas::cpu
