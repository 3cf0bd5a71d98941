// The op cases bench times, from the shared case tables.
#include "op_cases.h"

#include <regex>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas::bench {

nlohmann::json TimedOp::spec() const {
  nlohmann::json spec = c.torch_spec();
  spec["mode"] = backward ? "fwdbwd" : "fwd";
  return spec;
}

double TimedOp::bytes() const {
  return 4.0 * (c.cost.fwd_elements + (backward ? c.cost.bwd_elements : 0));
}

double TimedOp::flops() const {
  return c.cost.fwd_flops * (backward ? 3 : 1);
}

void TimedOp::call(const std::vector<Tensor>& inputs, const Tensor& gy) const {
  if (!backward) {
    const NoGradGuard no_grad;
    c.run(inputs);
    return;
  }
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) t.set_grad(Tensor());
  }
  c.run(inputs)[0].backward(gy);
}

std::vector<TimedOp> timed_ops(bool quick, const std::string& filter) {
  const std::vector<cases::OpCase> table = cases::cases_with(quick ? cases::kQuick : cases::kBench);
  std::vector<TimedOp> ops;
  for (const bool backward : {false, true}) {
    for (const cases::OpCase& c : table) ops.push_back({c, backward});
  }
  if (!filter.empty()) {
    const std::regex re(filter);
    std::erase_if(ops, [&](const TimedOp& op) { return !std::regex_search(op.name(), re); });
  }
  return ops;
}

Tensor output_gradient(const TimedOp& op, const std::vector<Tensor>& inputs, Device device) {
  if (!op.backward) return Tensor();
  const NoGradGuard no_grad;
  const Tensor y = op.c.run(inputs)[0];
  Generator gen(99);
  return uniform(y.shape(), -1, 1, gen, TensorOptions{}.with_dtype(y.dtype())).to(device);
}

BenchCase bench_case(const TimedOp& op, Device device) {
  BenchCase b;
  b.name = op.name();
  b.shape = op.shape();
  b.spec = op.spec();
  b.prepare = [op, device]() -> std::function<void()> {
    std::vector<Tensor> inputs = op.c.make_inputs(DType::Float32);
    const std::vector<bool> grad = op.c.grad_inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].defined()) continue;
      inputs[i] = inputs[i].to(device);
      if (op.backward && grad[i]) inputs[i].set_requires_grad(true);
    }
    const Tensor gy = output_gradient(op, inputs, device);
    return [op, inputs, gy] { op.call(inputs, gy); };
  };
  return b;
}

}  // namespace fusenas::bench
