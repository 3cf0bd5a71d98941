// optim::Optimizer: the parameter list, learning rate, gradient reset and checkpointable state
// shared by SGD and Adam.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::optim {

// An optimizer's checkpointable state: per-parameter tensors keyed "<index>.<name>" (e.g.
// "3.momentum_buffer", "0.exp_avg"), per-parameter counters keyed the same way ("0.step") and
// "lr". The tensors fit a safetensors file, the scalars a JSON object.
struct OptimizerState {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; the others are skipped and keep their
  // state. Never recorded by autograd.
  virtual void step() = 0;
  // Drops every parameter's gradient (set_to_none), which step() then skips.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);

  // Keeps the lr and every counter (Adam's step count) in 0-d float64 tensors on the parameters'
  // CUDA device, which the update kernels read and advance there. A step captured into a CUDA
  // graph then replays with the lr set since and the count reached so far, exactly as the eager
  // step would. Every parameter must then step every time (one count serves them all), and
  // state_dict reads the counts back from the device.
  void keep_scalars_on_device();
  bool scalars_on_device() const { return lr_device_.defined(); }
  const std::vector<Tensor>& params() const { return params_; }

  // Tensors are detached copies, unaffected by later steps.
  OptimizerState state_dict() const;
  // Parameter `index`'s state tensor `name` (e.g. "momentum_buffer") as the optimizer holds it,
  // without a copy; undefined when the optimizer has no such state or has not created it yet.
  Tensor state_tensor(size_t index, const std::string& name) const;
  // Replaces all state (entries absent from `state` are reset). Checks every key (known name,
  // parameter index in range, shape) before changing anything; tensors are copied onto their
  // parameter's device and dtype.
  void load_state_dict(const OptimizerState& state);

 protected:
  // The parameters that have a gradient this step, with their gradients made contiguous.
  struct Active {
    std::vector<size_t> index;
    std::vector<Tensor> params;
    std::vector<Tensor> grads;
  };
  // Also checks that the parameters share one device, and moves any state tensor that is not on
  // its parameter's device (a module moved with Module::to after the optimizer was built).
  Active active();
  // Subclasses declare their per-parameter state in the constructor: slots_[name][i] is tensor
  // state of parameter i (undefined until first needed), counters_[name][i] scalar state.
  void declare_slot(const std::string& name);
  void declare_counter(const std::string& name);
  // With scalars on the device: the lr tensor, and counter `name` advanced by one there (one
  // launch, recorded into a graph being captured).
  const Tensor& device_lr() const { return lr_device_; }
  const Tensor& advance_device_counter(const std::string& name);

  std::map<std::string, std::vector<Tensor>> slots_;
  std::map<std::string, std::vector<double>> counters_;

 private:
  std::vector<Tensor> params_;
  double lr_;
  Tensor lr_device_, device_one_;
  std::map<std::string, Tensor> device_counters_;
};

}  // namespace fusenas::optim
