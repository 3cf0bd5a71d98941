// softmax and log_softmax over the last axis: several ranks, one class, a large vocabulary,
// large logits (only a max-subtracted implementation stays finite) and a permuted input; a
// classifier-sized softmax for bench.
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

std::vector<OpCase> softmax_family(const std::string& op) {
  const bool log = op == "log_softmax";
  const OpFn fn = [log](const std::vector<Tensor>& v) {
    return std::vector{log ? log_softmax(v[0]) : softmax(v[0])};
  };
  std::vector<OpCase> cases;
  const auto add = [&](const std::string& name, const Shape& s, double low, double high,
                       unsigned checks) {
    OpCase c;
    c.op = op;
    c.name = name.empty() ? shape_str(s) : name;
    c.inputs = {Input{s, low, high}};
    c.run = fn;
    c.checks = checks;
    const double xe = double(numel_of(s));
    c.cost = {2 * xe, 3 * xe, 0};
    cases.push_back(c);
  };
  for (const Shape& s : std::vector<Shape>{{3, 5}, {2, 3, 4}, {6}}) add("", s, -2, 2, kGradcheck);
  OpCase permuted;
  permuted.op = op;
  permuted.name = "permuted [4, 3]";
  permuted.inputs = {Input{{4, 3}}};
  permuted.run = [fn](const std::vector<Tensor>& v) { return fn({v[0].permute({1, 0})}); };
  permuted.checks = kGradcheck;
  cases.push_back(permuted);
  for (const Shape& s : std::vector<Shape>{{16, 10}, {4, 5, 6, 7}, {3, 1000}}) {
    add("", s, -4, 4, kParity);
  }
  add("large logits", {8, 12}, 80, 120, kParity);
  for (const Shape& s : std::vector<Shape>{{7, 10}, {3, 5, 33}, {2, 1000}, {4, 1}, {9}}) {
    add("", s, -4, 4, kGpu);
  }
  add("logit offset", {5, 17}, 80, 90, kGpu);
  if (!log) add("", {4096, 1000}, -1, 1, kBench);
  return cases;
}

}  // namespace

std::vector<OpCase> softmax_cases() {
  return softmax_family("softmax");
}

std::vector<OpCase> log_softmax_cases() {
  return softmax_family("log_softmax");
}

}  // namespace fusenas::cases
