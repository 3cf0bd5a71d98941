// The activation shapes bench times ops at: the DARTS CIFAR-10 search (batch 64 at C16 32px, C32
// 16px, C64 8px) and the quick CPU preset (Fashion-MNIST, C8 28px); --quick runs one small shape.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "op_case.h"

namespace fusenas::cases {

struct BenchShape {
  int64_t n, hw, c;
  bool quick = false;  // the --quick shape
  std::string tag() const { return fmt::format("C{} {}px", c, hw); }
};

inline std::vector<BenchShape> bench_shapes() {
  return {{64, 32, 16}, {64, 16, 32}, {64, 8, 64}, {32, 28, 8}, {32, 16, 16, true}};
}

// The checks of a bench case at shape `a`: kBench at the full shapes; at the quick shape kQuick
// for the handful of cases `in_quick` picks, else none (leave the case out).
inline unsigned bench_checks(const BenchShape& a, bool in_quick) {
  return a.quick ? (in_quick ? kQuick : 0u) : kBench;
}

}  // namespace fusenas::cases
