// batch_norm cases: training and eval, with and without the affine weight and bias and the
// running statistics (compared after their update), 2-D and 4-D inputs, a large mean; DARTS'
// training-mode BN without affine for bench.
#include <fmt/format.h>

#include "bench_shapes.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

struct Bn {
  bool affine = true;
  bool stats = true;
  bool training = true;
  double momentum = 0.1, eps = 1e-5;
};

// Inputs x, weight, bias, running_mean, running_var; the op updates the running statistics in
// place, so it works on copies and returns them as extra outputs.
OpCase bn(const Shape& x, const Bn& o, unsigned checks, Input xin = {}) {
  const int64_t c = x.back();
  OpCase k;
  k.op = "batch_norm";
  k.name = fmt::format("{} {}{}{}", shape_str(x), o.training ? "train" : "eval",
                       o.affine ? " affine" : "", o.stats ? " stats" : "");
  if (xin.shape.empty()) xin = Input{x, -2, 3};
  k.inputs = {xin, o.affine ? Input{{c}, 0.5, 1.5} : Input::none(),
              o.affine ? Input{{c}, -0.5, 0.5} : Input::none(),
              o.stats ? Input::constant({c}, -0.5, 0.5) : Input::none(),
              o.stats ? Input::constant({c}, 0.5, 1.5) : Input::none()};
  k.run = [o](const std::vector<Tensor>& v) {
    if (!v[3].defined()) {
      return std::vector{batch_norm(v[0], v[1], v[2], {}, {}, o.training, o.momentum, o.eps)};
    }
    Tensor rm = v[3].clone(), rv = v[4].clone();
    Tensor y = batch_norm(v[0], v[1], v[2], rm, rv, o.training, o.momentum, o.eps);
    return std::vector{y, rm, rv};
  };
  k.checks = checks;
  k.params = {{"training", o.training}, {"momentum", o.momentum}, {"eps", o.eps}};
  // Training-mode statistics need a looser finite-difference bound (sums over the batch).
  if (o.training) k.gradcheck_tolerance = 1e-5;
  const double xe = double(numel_of(x));
  k.cost = {2 * xe, 3 * xe, 0};  // statistics + normalise; backward reads x and gy, writes gx
  return k;
}

}  // namespace

std::vector<OpCase> batch_norm_cases() {
  std::vector<OpCase> cases;
  cases.push_back(bn({3, 4, 3, 5}, {}, kGradcheck));
  cases.push_back(bn({3, 4, 3, 5}, {.affine = false, .stats = false}, kGradcheck));
  cases.push_back(bn({3, 4, 3, 5}, {.training = false}, kGradcheck));
  cases.push_back(bn({3, 4, 3, 5}, {.affine = false, .training = false}, kGradcheck));
  cases.push_back(bn({7, 6}, {.stats = false}, kGradcheck));
  // No input gradient: the backward runs only its sums pass.
  for (const bool training : {true, false}) {
    OpCase c = bn({4, 3, 3, 4}, {.training = training}, kGradcheck | kGpu,
                  Input::constant({4, 3, 3, 4}, -1, 1));
    c.inputs[2] = Input::none();
    c.name += " weight only";
    cases.push_back(c);
  }

  for (const bool affine : {true, false}) {
    for (const Shape& s :
         std::vector<Shape>{{4, 9, 9, 24}, {32, 10}, {16, 16, 16, 40}, {2, 3, 3, 1}}) {
      cases.push_back(bn(s, {.affine = affine}, kGpu));
    }
    for (const Shape& s : std::vector<Shape>{{4, 9, 9, 24}, {32, 10}}) {
      cases.push_back(bn(s, {.affine = affine, .training = false}, kGpu));
    }
  }
  cases.push_back(bn({4, 6, 6, 12}, {.stats = false}, kGpu));
  // |mean| >> std: the shifted one-pass variance must stay accurate.
  OpCase large =
      bn({8, 8, 8, 16}, {.momentum = 0.3, .eps = 1e-3}, kGpu, Input{{8, 8, 8, 16}, 998, 1002});
  large.name += " large mean";
  cases.push_back(large);

  for (const auto& [s, affine, stats] :
       std::vector<std::tuple<Shape, bool, bool>>{{{8, 16, 16, 16}, true, true},
                                                  {{4, 8, 8, 32}, true, true},
                                                  {{6, 12, 12, 8}, false, true},
                                                  {{5, 9, 9, 24}, true, false},
                                                  {{4, 8, 8, 12}, false, false},
                                                  {{64, 32}, true, true},
                                                  {{33, 10}, false, true}}) {
    cases.push_back(bn(s, {.affine = affine, .stats = stats}, kParity));
  }
  for (const auto& [s, affine] : std::vector<std::pair<Shape, bool>>{
           {{8, 16, 16, 16}, true}, {{4, 9, 9, 24}, false}, {{48, 20}, true}}) {
    cases.push_back(bn(s, {.affine = affine, .training = false}, kParity));
  }

  // DARTS' search cells: training mode, no affine (bench times the statistics and normalise).
  for (const BenchShape& a : bench_shapes()) {
    cases.push_back(bn({a.n, a.hw, a.hw, a.c}, {.affine = false, .stats = false},
                       bench_checks(a, true), Input{{a.n, a.hw, a.hw, a.c}}));
    cases.back().name = "train " + a.tag();
  }
  return cases;
}

}  // namespace fusenas::cases
