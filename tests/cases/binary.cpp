// Binary elementwise cases (add, sub, mul, div) with every broadcasting pattern: equal shapes, a
// scalar, a trailing vector, and both sides broadcast; add at the DARTS shapes for bench. The
// second operand stays in [0.5, 2) so div is smooth.
#include "bench_shapes.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpFn binary_fn(const std::string& op) {
  const auto wrap = [](Tensor (*f)(const Tensor&, const Tensor&)) {
    return OpFn([f](const std::vector<Tensor>& v) { return std::vector{f(v[0], v[1])}; });
  };
  if (op == "add") return wrap(add);
  if (op == "sub") return wrap(sub);
  if (op == "mul") return wrap(mul);
  if (op == "div") return wrap(div);
  FUSENAS_FAIL("binary_cases: unknown op {}", op);
}

}  // namespace

std::vector<OpCase> binary_cases(const std::string& op) {
  std::vector<OpCase> cases;
  const auto add_case = [&](const Shape& a, const Shape& b, double low, unsigned checks,
                            std::string name = "") {
    if (checks == 0) return;
    OpCase c;
    c.op = op;
    c.name = name.empty() ? shape_str(a) + " " + shape_str(b) : name;
    c.inputs = {Input{a, low, 2}, Input{b, 0.5, 2}};
    c.run = binary_fn(op);
    c.checks = checks;
    const double xe = double(numel_of(a));
    c.cost = {3 * xe, 3 * xe, 0};  // backward: reads gy, writes both gradients
    cases.push_back(c);
  };
  const std::vector<std::pair<Shape, Shape>> small = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}};
  for (const auto& [a, b] : small) add_case(a, b, -1, kGradcheck);
  const std::vector<std::pair<Shape, Shape>> parity = {{{4, 5, 6, 8}, {4, 5, 6, 8}},
                                                       {{4, 5, 6, 8}, {}},
                                                       {{4, 5, 6, 8}, {8}},
                                                       {{4, 1, 6, 1}, {5, 1, 8}}};
  for (const auto& [a, b] : parity) add_case(a, b, -2, kParity);
  const Shape s{8, 9, 9, 16};
  const std::vector<std::pair<Shape, Shape>> gpu = {
      {s, s}, {s, {}}, {s, {16}}, {{8, 1, 9, 1}, {9, 1, 16}}};
  for (const auto& [a, b] : gpu) add_case(a, b, -2, kGpu);
  if (op == "add") {
    for (const BenchShape& a : bench_shapes()) {
      const Shape x{a.n, a.hw, a.hw, a.c};
      add_case(x, x, -1, bench_checks(a, true), a.tag());
    }
  }
  return cases;
}

}  // namespace fusenas::cases
