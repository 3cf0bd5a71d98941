// Vector helpers shared by the hand-vectorised conv2d kernels: 32-byte GCC vectors and the
// always-inline / AVX2 attributes that let one kernel body compile for two instruction sets.
#pragma once

#include <cstdint>
#include <cstring>

// Kernel bodies are always inlined into per-ISA entry points, so they take on their target.
#define FUSENAS_CONV_INLINE [[gnu::always_inline]] inline
#if defined(__x86_64__)
#define FUSENAS_CONV_AVX2 [[gnu::target("avx2,fma")]]
#else
#define FUSENAS_CONV_AVX2
#endif

namespace fusenas::cpu {

// One AVX register in the AVX2 build, a pair of SSE registers otherwise.
template <typename T>
struct Simd {
  static constexpr int64_t lanes = 32 / static_cast<int64_t>(sizeof(T));
  typedef T vec __attribute__((vector_size(32)));
};

// Loads and stores through memcpy: channel offsets give no alignment guarantee.
template <typename V, typename T>
FUSENAS_CONV_INLINE void vload(V& v, const T* p) {
  std::memcpy(&v, p, sizeof(V));
}
template <typename V, typename T>
FUSENAS_CONV_INLINE void vstore(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

inline bool use_avx2() {
#if defined(__x86_64__)
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
#else
  return false;
#endif
}

}  // namespace fusenas::cpu
