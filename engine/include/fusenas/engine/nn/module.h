// nn::Module: a tree of named parameters, buffers and child modules with PyTorch's naming,
// state_dict, train/eval and device semantics.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// Parameters and buffers by dotted name, e.g. "features.0.weight". A std::map so a checkpoint
// read with io::load_safetensors can be handed straight back.
using StateDict = std::map<std::string, Tensor>;

// What a non-strict load_state_dict left alone.
struct LoadResult {
  std::vector<std::string> missing_keys;     // in the module, not in the state dict
  std::vector<std::string> unexpected_keys;  // in the state dict, not in the module
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Copies would alias parameters with a second module; share a shared_ptr instead.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Short class name used in error messages ("Linear", "Sequential", ...).
  virtual std::string type_name() const { return "Module"; }
  // Single-input forward. Modules with other signatures (LSTMCell) throw here.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Registration. Names must be non-empty, free of '.', and unique within this module across
  // parameters, buffers and children. The returned handle is the registered tensor itself.
  // Parameters are marked requires_grad (they must be floating leaves); buffers are not.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // Dotted names in registration order: this module's own entries first, then each child's in
  // turn (PyTorch's order). A tensor registered under two names is listed once.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // Pre-order walk including this module (named "").
  std::vector<std::pair<std::string, Module*>> named_modules();

  // Parameters and buffers, detached but sharing storage with the module.
  StateDict state_dict() const;
  // Copies values into the existing tensors (converting dtype/device as needed). Everything is
  // checked before anything is written, so a failed load leaves the module unchanged. A shape
  // mismatch is always an error; missing/unexpected keys are errors only when strict.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);

  // Sets training mode here and in every descendant.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops every parameter's gradient (PyTorch's set_to_none); optimizers skip such parameters.
  void zero_grad();

  // Moves/converts parameters, buffers and gradients in place: each tensor handle keeps its
  // identity and gets new storage, so optimizers built earlier still see the parameters
  // (their state tensors follow the parameter's device at the next step()).
  void to(Device device);
  void to(DType dtype);

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace fusenas::nn
