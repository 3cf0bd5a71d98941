// Channel-chunk iteration shared by the NHWC CPU kernels (pooling, batch norm).
#pragma once

#include <cstdint>

namespace fusenas::cpu {

// Calls f.template operator()<V>(c) for channels [begin, end) in chunks of one cache line, then
// 4, then 1. NHWC keeps channels contiguous, and a compile-time width lets the compiler hold a
// chunk's accumulators in vector registers across a whole window or block of rows instead of
// reloading and storing them per tap.
template <typename T, typename F>
inline void for_channel_chunks(int64_t begin, int64_t end, F&& f) {
  constexpr int kWide = 64 / static_cast<int>(sizeof(T));
  int64_t c = begin;
  for (; c + kWide <= end; c += kWide) f.template operator()<kWide>(c);
  for (; c + 4 <= end; c += 4) f.template operator()<4>(c);
  for (; c < end; ++c) f.template operator()<1>(c);
}

}  // namespace fusenas::cpu
