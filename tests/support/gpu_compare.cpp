// CUDA-versus-CPU comparison for GPU tests: same inputs on both devices, poisoned allocations,
// outputs and input gradients compared by max relative error.
#include "support/gpu_compare.h"

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "support/torch_oracle.h"

namespace fusenas::testing {
namespace {

struct Run {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;
};

Run run_on(Device device, const std::vector<Tensor>& inputs, const OpFn& f,
           const std::vector<bool>& grad_inputs, const Tensor& gy_cpu) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor x = inputs[i].defined() ? inputs[i].detach().to(device).clone() : Tensor();
    if (x.defined() && grad_inputs[i]) x.set_requires_grad(true);
    xs.push_back(x);
  }
  Run r;
  r.outputs = f(xs);
  if (r.outputs[0].requires_grad()) r.outputs[0].backward(gy_cpu.to(device));
  for (size_t i = 0; i < xs.size(); ++i)
    r.grads.push_back(grad_inputs[i] ? xs[i].grad() : Tensor());
  return r;
}

}  // namespace

void expect_cuda_matches_cpu(const std::string& label, const std::vector<Tensor>& inputs,
                             const OpFn& f, double tolerance, std::vector<bool> grad_inputs) {
  SCOPED_TRACE(label);
  if (grad_inputs.empty()) {
    for (const auto& t : inputs) grad_inputs.push_back(t.defined() && is_floating(t.dtype()));
  }
  // The output gradient comes from a probe run's output shape.
  std::vector<Tensor> probe_inputs;
  for (const auto& t : inputs) probe_inputs.push_back(t.defined() ? t.detach().clone() : Tensor());
  const Tensor probe = f(probe_inputs)[0];
  Generator gen(77);
  const Tensor gy = uniform(probe.shape(), -1, 1, gen, TensorOptions{}.with_dtype(probe.dtype()));

  const Run cpu = run_on(Device::cpu(), inputs, f, grad_inputs, gy);
  cuda::set_poison_allocations(true);
  Run gpu;
  try {
    gpu = run_on(Device::cuda(), inputs, f, grad_inputs, gy);
  } catch (...) {
    cuda::set_poison_allocations(false);
    throw;
  }
  cuda::set_poison_allocations(false);
  ASSERT_EQ(cpu.outputs.size(), gpu.outputs.size());
  for (size_t k = 0; k < cpu.outputs.size(); ++k) {
    SCOPED_TRACE(fmt::format("output {}", k));
    ASSERT_TRUE(gpu.outputs[k].is_cuda());
    EXPECT_TENSOR_NEAR(gpu.outputs[k], cpu.outputs[k], tolerance);
  }
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    if (!cpu.grads[i].defined()) continue;
    SCOPED_TRACE(fmt::format("gradient of input {}", i));
    EXPECT_TENSOR_NEAR(gpu.grads[i], cpu.grads[i], tolerance);
  }
}

}  // namespace fusenas::testing
