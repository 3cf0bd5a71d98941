// ParityBatch: queue many op cases, run them here and in PyTorch (one Python process), then
// compare outputs and input gradients.
#include "support/parity.h"

#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"

namespace fusenas::testing {

Tensor random_float(const Shape& shape, uint64_t seed, double low, double high) {
  Generator gen(seed);
  return uniform(shape, low, high, gen);
}

void ParityBatch::add(const std::string& label, const std::string& op, const nlohmann::json& params,
                      std::vector<Tensor> inputs, const MultiFn& f, ParityOptions options) {
  std::vector<bool> grad_inputs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool floating = inputs[i].defined() && is_floating(inputs[i].dtype());
    grad_inputs[i] = options.grad_inputs.empty() ? floating : (floating && options.grad_inputs[i]);
    if (grad_inputs[i]) inputs[i].set_requires_grad(true);
  }
  std::vector<Tensor> outputs = f(inputs);
  Generator gen(seed_++);
  Tensor gy =
      uniform(outputs[0].shape(), -1, 1, gen, TensorOptions{}.with_dtype(outputs[0].dtype()));
  const bool differentiable = outputs[0].requires_grad();
  if (differentiable) outputs[0].backward(gy);
  Entry e{label, options.tolerance, outputs, {}};
  for (size_t i = 0; i < inputs.size(); ++i)
    e.grads.push_back(grad_inputs[i] ? inputs[i].grad() : Tensor());
  entries_.push_back(std::move(e));
  OracleCase c{op, params, inputs, differentiable ? std::vector<Tensor>{gy} : std::vector<Tensor>{},
               grad_inputs};
  cases_.push_back(std::move(c));
}

void ParityBatch::add(const std::string& label, const std::string& op, const nlohmann::json& params,
                      std::vector<Tensor> inputs,
                      const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      ParityOptions options) {
  add(label, op, params, std::move(inputs),
      MultiFn([f](const std::vector<Tensor>& x) { return std::vector<Tensor>{f(x)}; }),
      std::move(options));
}

void ParityBatch::check() {
  const auto results = run_torch(cases_);
  for (size_t c = 0; c < entries_.size(); ++c) {
    const Entry& e = entries_[c];
    SCOPED_TRACE(e.label);
    ASSERT_GE(results[c].outputs.size(), e.outputs.size()) << "torch returned too few outputs";
    for (size_t k = 0; k < e.outputs.size(); ++k) {
      SCOPED_TRACE(fmt::format("output {}", k));
      EXPECT_TENSOR_NEAR(e.outputs[k], results[c].outputs[k], e.tolerance);
    }
    for (size_t i = 0; i < e.grads.size(); ++i) {
      if (!e.grads[i].defined() && !results[c].input_grads[i].defined()) continue;
      SCOPED_TRACE(fmt::format("gradient of input {}", i));
      EXPECT_TENSOR_NEAR(e.grads[i], results[c].input_grads[i], e.tolerance);
    }
  }
  entries_.clear();
  cases_.clear();
}

}  // namespace fusenas::testing
