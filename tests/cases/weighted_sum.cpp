// weighted_sum cases (the MixedOp combine): one to forty inputs, constant inputs or weights, one
// tensor passed twice, sizes that split the backward in chunks; eight inputs at the DARTS shapes
// for bench. The last input holds the weights.
#include <fmt/format.h>

#include "bench_shapes.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

// n inputs of `shape` and their weights; `grad` flags each input then the weights.
OpCase combine(const std::string& name, const Shape& shape, int n, unsigned checks,
               std::vector<bool> grad = {}) {
  OpCase c;
  c.op = "weighted_sum";
  c.name = name.empty() ? fmt::format("{} x {}", n, shape_str(shape)) : name;
  for (int i = 0; i < n; ++i) c.inputs.push_back(Input{shape});
  c.inputs.push_back(Input{{n}, 0, 1});
  for (size_t i = 0; i < grad.size(); ++i) c.inputs[i].grad = grad[i];
  c.run = [](const std::vector<Tensor>& v) {
    return std::vector{weighted_sum(std::vector<Tensor>(v.begin(), v.end() - 1), v.back())};
  };
  c.checks = checks;
  const double xe = double(numel_of(shape));
  // Forward reads n inputs, writes one; backward reads gy and the inputs (the weights' dots),
  // writes n gradients.
  c.cost = {(n + 1) * xe, (2 * n + 1) * xe, 0};
  return c;
}

}  // namespace

std::vector<OpCase> weighted_sum_cases() {
  std::vector<OpCase> cases;
  cases.push_back(combine("", {2, 3, 4}, 3, kGradcheck));
  cases.push_back(combine("one input constant", {2, 3, 4}, 3, kGradcheck, {true, false, true}));
  cases.push_back(combine("constant weights", {2, 3, 4}, 2, kGradcheck, {true, true, false}));
  // The same tensor twice accumulates both contributions.
  OpCase twice = combine("repeated input", {5, 7}, 1, kGradcheck | kGpu);
  twice.run = [](const std::vector<Tensor>& v) {
    return std::vector{weighted_sum({v[0], v[0]}, v[1])};
  };
  twice.inputs.back() = Input{{2}};
  cases.push_back(twice);
  for (const Shape& s : std::vector<Shape>{{2, 3}, {8, 16, 16, 12}, {40000}}) {
    for (const int n : {1, 3, 8}) cases.push_back(combine("", s, n, kParity));
  }
  for (const Shape& s : std::vector<Shape>{{2, 3, 4}, {4, 16, 16, 32}, {40000}}) {
    cases.push_back(combine("", s, 8, kGpu));
  }
  // More inputs than one launch carries (40), also with constant weights (no dot products).
  cases.push_back(combine("", {3, 50}, 40, kGpu));
  std::vector<bool> inputs_only(41, true);
  inputs_only.back() = false;
  cases.push_back(combine("40 inputs constant weights", {3, 50}, 40, kGpu, inputs_only));
  cases.push_back(combine("weights only", {5, 7}, 2, kGpu, {false, false, true}));
  for (const BenchShape& a : bench_shapes()) {
    const unsigned checks = bench_checks(a, true);
    cases.push_back(
        combine(fmt::format("8 inputs {}", a.tag()), {a.n, a.hw, a.hw, a.c}, 8, checks));
  }
  return cases;
}

}  // namespace fusenas::cases
