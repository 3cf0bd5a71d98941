// concat cases along every axis (also negative), with an empty and a permuted input.
#include <fmt/format.h>

#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpCase join(const std::string& name, const std::vector<Shape>& shapes, int64_t axis,
            unsigned checks) {
  OpCase c;
  c.op = "concat";
  c.name = fmt::format("{}axis {} of {}", name.empty() ? "" : name + " ", axis, shapes.size());
  for (const Shape& s : shapes) c.inputs.push_back(Input{s});
  c.run = [axis](const std::vector<Tensor>& v) { return std::vector{concat(v, axis)}; };
  c.params = {{"axis", axis}};
  c.checks = checks;
  return c;
}

// The second input arrives permuted (its last two axes swapped), so it is not contiguous.
OpCase join_permuted(const Shape& a, const Shape& b_before, int64_t axis, unsigned checks) {
  OpCase c = join("permuted", {a, b_before}, axis, checks);
  c.run = [axis](const std::vector<Tensor>& v) {
    return std::vector{concat({v[0], v[1].permute({0, 1, 3, 2})}, axis)};
  };
  return c;
}

}  // namespace

std::vector<OpCase> concat_cases() {
  const Shape a{2, 2, 2, 3};
  return {join("", {a, {2, 2, 2, 1}, {2, 2, 2, 2}}, 3, kGradcheck),
          join("", {a, {2, 2, 2, 1}, {2, 2, 2, 2}}, -1, kGradcheck),
          join("", {a, {3, 2, 2, 3}}, 0, kGradcheck),
          join("", {a, {2, 4, 2, 3}}, 1, kGradcheck),
          join_permuted(a, {2, 2, 3, 2}, 2, kGradcheck),
          join("", {{2, 3, 4, 5}, {2, 3, 4, 1}, {2, 3, 4, 7}}, 3, kGpu),
          join("", {{2, 3, 4, 5}, {2, 3, 4, 1}, {2, 3, 4, 7}}, -1, kGpu),
          join("", {{2, 3, 4, 5}, {4, 3, 4, 5}}, 0, kGpu),
          join("with an empty input", {{2, 3, 4, 5}, {2, 1, 4, 5}, {2, 0, 4, 5}}, 1, kGpu),
          join_permuted({2, 3, 4, 5}, {2, 3, 5, 4}, 2, kGpu),
          join("", {{4, 5, 5, 8}, {4, 5, 5, 3}, {4, 5, 5, 16}}, 3, kParity),
          join("", {{2, 5, 5, 8}, {7, 5, 5, 8}}, 0, kParity),
          join("", {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}, 1, kParity)};
}

}  // namespace fusenas::cases
