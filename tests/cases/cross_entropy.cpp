// cross_entropy cases: one class, many classes, many rows, and composed with log_softmax as a
// model would use it; a classifier-sized batch for bench.
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpCase ce(int64_t n, int64_t k, double range, unsigned checks, bool of_log_softmax = false) {
  OpCase c;
  c.op = "cross_entropy";
  c.name = shape_str({n, k}) + (of_log_softmax ? " of log_softmax" : "");
  c.inputs = {Input{{n, k}, -range, range}, Input::labels({n}, k)};
  c.run = [of_log_softmax](const std::vector<Tensor>& v) {
    return std::vector{cross_entropy(of_log_softmax ? log_softmax(v[0]) : v[0], v[1])};
  };
  c.checks = checks;
  const double le = double(n * k);
  c.cost = {le, 2 * le, 0};
  return c;
}

}  // namespace

std::vector<OpCase> cross_entropy_cases() {
  std::vector<OpCase> cases = {ce(4, 5, 2, kGradcheck), ce(4, 5, 2, kGradcheck, true)};
  for (const auto& [n, k] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 10}, {64, 10}, {33, 257}, {1500, 3}}) {
    cases.push_back(ce(n, k, 3, kGpu));
  }
  cases.push_back(ce(16, 12, 2, kGpu, true));
  cases.push_back(ce(32, 10, 3, kParity));
  cases.push_back(ce(7, 1000, 5, kParity));
  cases.push_back(ce(1, 2, 1, kParity));
  cases.push_back(ce(4096, 1000, 1, kBench));
  return cases;
}

}  // namespace fusenas::cases
