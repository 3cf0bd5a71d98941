// OpenMP parallel loops with a grain size, so tiny loops stay serial.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace fusenas {

// Calls fn(begin, end) over [0, n) split across threads; serial when n < grain.
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  const int max_threads = omp_get_max_threads();
  if (n < grain || max_threads == 1 || omp_in_parallel()) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(max_threads, (n + grain - 1) / grain);
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks;
    const int64_t end = n * (c + 1) / chunks;
    fn(begin, end);
  }
}

}  // namespace fusenas
