// The CUDA-versus-CPU comparison shared by the gpu tests and bench.
#include "compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas::cases {
namespace {

struct Run {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;
};

Run run_on(Device device, const std::vector<Tensor>& inputs, const OpFn& run,
           const std::vector<bool>& grad_inputs, const Tensor& gy_cpu, bool backward) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Fresh leaves on both devices, so the caller's inputs stay untouched.
    Tensor x = inputs[i].defined() ? inputs[i].detach().to(device).clone() : Tensor();
    if (x.defined() && backward && grad_inputs[i]) x.set_requires_grad(true);
    xs.push_back(x);
  }
  Run r;
  if (!backward) {
    const NoGradGuard no_grad;
    r.outputs = run(xs);
    return r;
  }
  r.outputs = run(xs);
  if (r.outputs[0].requires_grad()) r.outputs[0].backward(gy_cpu.to(device));
  for (size_t i = 0; i < xs.size(); ++i) {
    r.grads.push_back(grad_inputs[i] ? xs[i].grad() : Tensor());
  }
  return r;
}

Difference difference(std::string what, const Tensor& gpu, const Tensor& cpu) {
  Difference d{std::move(what), 0, ""};
  if (!gpu.defined() || !cpu.defined()) {
    d.error = gpu.defined() == cpu.defined() ? 0 : std::numeric_limits<double>::infinity();
    if (d.error != 0) d.note = gpu.defined() ? "missing on the CPU" : "missing on CUDA";
  } else if (gpu.shape() != cpu.shape()) {
    d.error = std::numeric_limits<double>::infinity();
    d.note =
        "shape " + shape_str(gpu.shape()) + " on CUDA, " + shape_str(cpu.shape()) + " on the CPU";
  } else {
    d.error = max_relative_error(gpu, cpu);
    if (!std::isfinite(d.error)) d.note = "NaN";
  }
  return d;
}

}  // namespace

std::vector<Difference> compare_cuda_with_cpu(const std::vector<Tensor>& inputs, const OpFn& run,
                                              std::vector<bool> grad_inputs, bool backward) {
  if (grad_inputs.empty()) {
    for (const auto& t : inputs) grad_inputs.push_back(t.defined() && is_floating(t.dtype()));
  }
  Tensor gy;
  if (backward) {
    // The output gradient comes from a probe run's output shape.
    std::vector<Tensor> probe_inputs;
    for (const auto& t : inputs)
      probe_inputs.push_back(t.defined() ? t.detach().clone() : Tensor());
    const NoGradGuard no_grad;
    const Tensor probe = run(probe_inputs)[0];
    Generator gen(77);
    gy = uniform(probe.shape(), -1, 1, gen, TensorOptions{}.with_dtype(probe.dtype()));
  }
  const Run cpu = run_on(Device::cpu(), inputs, run, grad_inputs, gy, backward);
  cuda::set_poison_allocations(true);
  Run gpu;
  try {
    gpu = run_on(Device::cuda(), inputs, run, grad_inputs, gy, backward);
  } catch (...) {
    cuda::set_poison_allocations(false);
    throw;
  }
  cuda::set_poison_allocations(false);
  std::vector<Difference> out;
  for (size_t k = 0; k < std::max(cpu.outputs.size(), gpu.outputs.size()); ++k) {
    out.push_back(difference("output " + std::to_string(k),
                             k < gpu.outputs.size() ? gpu.outputs[k] : Tensor(),
                             k < cpu.outputs.size() ? cpu.outputs[k] : Tensor()));
    if (k < gpu.outputs.size() && gpu.outputs[k].defined() && !gpu.outputs[k].is_cuda()) {
      out.back().error = std::numeric_limits<double>::infinity();
      out.back().note = "the CUDA run's output is not on the device";
    }
  }
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    if (!cpu.grads[i].defined() && !gpu.grads[i].defined()) continue;
    out.push_back(difference("gradient of input " + std::to_string(i), gpu.grads[i], cpu.grads[i]));
  }
  return out;
}

double worst_error(const std::vector<Difference>& differences) {
  double worst = 0;
  for (const Difference& d : differences) worst = std::max(worst, d.error);
  return worst;
}

double max_relative_error(const Tensor& actual, const Tensor& expected, double floor) {
  const auto a = actual.to_vector<double>();
  const auto e = expected.to_vector<double>();
  if (a.size() != e.size()) return std::numeric_limits<double>::infinity();
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - e[i]);
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    max_diff = std::max(max_diff, d);
    max_ref = std::max(max_ref, std::abs(e[i]));
  }
  return max_diff / std::max(max_ref, floor);
}

}  // namespace fusenas::cases
