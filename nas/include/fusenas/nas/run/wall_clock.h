// Elapsed wall time for logs and trial records: one monotonic clock for every run.
#pragma once

#include <chrono>

namespace fusenas::nas {

using WallClock = std::chrono::steady_clock;

inline double seconds_since(WallClock::time_point start) {
  return std::chrono::duration<double>(WallClock::now() - start).count();
}

}  // namespace fusenas::nas
