// Unary elementwise cases (relu, sigmoid, tanh, exp, log, scale, square, add_scalar, sqrt,
// clamp_max): a small tensor for the gradient check, larger ones for PyTorch and CUDA, and relu at
// the DARTS shapes for bench. log and sqrt draw positive inputs.
#include "bench_shapes.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

// The op with its scalar argument (scale's factor, add_scalar's value, clamp_max's bound).
OpFn unary_fn(const std::string& op, double arg) {
  const auto wrap = [](Tensor (*f)(const Tensor&)) {
    return OpFn([f](const std::vector<Tensor>& v) { return std::vector{f(v[0])}; });
  };
  if (op == "relu") return wrap(relu);
  if (op == "sigmoid") return wrap(sigmoid);
  if (op == "tanh") return wrap(tanh);
  if (op == "exp") return wrap(exp);
  if (op == "log") return wrap(log);
  if (op == "square") return wrap(square);
  if (op == "sqrt") return wrap(sqrt);
  if (op == "scale") return [arg](const auto& v) { return std::vector{scale(v[0], arg)}; };
  if (op == "add_scalar")
    return [arg](const auto& v) { return std::vector{add_scalar(v[0], arg)}; };
  if (op == "clamp_max") return [arg](const auto& v) { return std::vector{clamp_max(v[0], arg)}; };
  FUSENAS_FAIL("unary_cases: unknown op {}", op);
}

nlohmann::json unary_params(const std::string& op, double arg) {
  if (op == "scale") return {{"factor", arg}};
  if (op == "add_scalar") return {{"value", arg}};
  if (op == "clamp_max") return {{"max", arg}};
  return nlohmann::json::object();
}

}  // namespace

std::vector<OpCase> unary_cases(const std::string& op) {
  const bool positive = op == "log" || op == "sqrt";
  std::vector<OpCase> cases;
  const auto add = [&](const std::string& name, const Shape& shape, double low, double high,
                       double arg, unsigned checks) {
    if (checks == 0) return;
    OpCase c;
    c.op = op;
    c.name = name;
    c.inputs = {Input{shape, positive ? low : -high, high}};
    c.run = unary_fn(op, arg);
    c.params = unary_params(op, arg);
    c.checks = checks;
    const double xe = double(numel_of(shape));
    c.cost = {2 * xe, 3 * xe, 0};  // backward: reads x (or y) and gy, writes gx
    cases.push_back(c);
  };
  add("[3, 5]", {3, 5}, 0.2, 2, op == "clamp_max" ? 0.3 : -1.5, kGradcheck);
  add("[64, 33]", {64, 33}, 0.1, 3, op == "clamp_max" ? 0.25 : 0.37, kParity);
  add("[8, 9, 9, 16]", {8, 9, 9, 16}, 0.1, 2, op == "clamp_max" ? 0.4 : -0.7, kGpu);
  if (op == "relu") {
    for (const BenchShape& a : bench_shapes()) {
      add(a.tag(), {a.n, a.hw, a.hw, a.c}, 0, 1, 0, bench_checks(a, true));
    }
  }
  return cases;
}

}  // namespace fusenas::cases
