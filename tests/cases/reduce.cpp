// sum and mean cases over every axis pattern, with and without keepdim, and of a permuted input.
#include <fmt/format.h>

#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpCase reduction(const std::string& op, const Shape& x, std::vector<int64_t> axes, bool keep,
                 unsigned checks) {
  OpCase c;
  c.op = op;
  c.name = fmt::format("{} axes {}{}", shape_str(x), shape_str(axes), keep ? " keepdim" : "");
  c.inputs = {Input{x}};
  const bool is_sum = op == "sum";
  c.run = [is_sum, axes, keep](const std::vector<Tensor>& v) {
    if (axes.empty()) return std::vector{is_sum ? sum(v[0]) : mean(v[0])};  // every element
    return std::vector{is_sum ? sum(v[0], axes, keep) : mean(v[0], axes, keep)};
  };
  c.params = {{"axes", axes}, {"keepdim", keep}};
  c.checks = checks;
  return c;
}

std::vector<OpCase> reduction_cases(const std::string& op) {
  std::vector<OpCase> cases;
  const Shape small{2, 3, 4, 5}, big{16, 9, 9, 12};
  cases.push_back(reduction(op, small, {0, 1, 2}, false, kGradcheck));
  cases.push_back(reduction(op, small, {1, 3}, true, kGradcheck));
  cases.push_back(reduction(op, small, {-1}, false, kGradcheck));
  cases.push_back(reduction(op, small, {}, false, kGradcheck));  // every axis
  OpCase permuted = reduction(op, small, {0, 3}, false, kGradcheck);
  permuted.name = "permuted " + permuted.name;
  permuted.run = [run = permuted.run](const std::vector<Tensor>& v) {
    return run({v[0].permute({3, 1, 0, 2})});
  };
  cases.push_back(permuted);
  for (const std::vector<int64_t>& axes :
       std::vector<std::vector<int64_t>>{{0, 1, 2}, {3}, {1, 2}, {0}}) {
    for (const bool keep : {false, true}) {
      cases.push_back(reduction(op, big, axes, keep, kParity | kGpu));
    }
  }
  return cases;
}

}  // namespace

std::vector<OpCase> sum_cases() {
  return reduction_cases("sum");
}

std::vector<OpCase> mean_cases() {
  return reduction_cases("mean");
}

}  // namespace fusenas::cases
