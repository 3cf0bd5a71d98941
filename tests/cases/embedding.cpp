// embedding cases: repeated indices (the scatter-add accumulates), a 0-d index, a large
// vocabulary (several radix-sort digits) and skewed indices (long runs).
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpCase lookup(const std::string& name, const Shape& weight, const Shape& indices, int64_t range,
              unsigned checks) {
  OpCase c;
  c.op = "embedding";
  c.name = name + " " + shape_str(weight) + " by " + shape_str(indices);
  c.inputs = {Input{weight}, Input::labels(indices, range)};
  c.run = [](const std::vector<Tensor>& v) { return std::vector{embedding(v[0], v[1])}; };
  c.checks = checks;
  return c;
}

}  // namespace

std::vector<OpCase> embedding_cases() {
  return {lookup("repeats", {6, 3}, {2, 3}, 6, kGradcheck),
          lookup("0-d index", {6, 3}, {}, 6, kGradcheck),
          lookup("repeats", {6, 5}, {2, 5}, 6, kGpu),
          lookup("0-d index", {4, 3}, {}, 4, kGpu),
          lookup("large", {3000, 33}, {7, 311}, 3000, kGpu),
          lookup("skewed", {50, 64}, {4000}, 3, kGpu),
          lookup("repeats", {6, 8}, {4, 6}, 6, kParity),
          lookup("large", {500, 64}, {300}, 500, kParity)};
}

}  // namespace fusenas::cases
