// nn::Module: registration, hierarchical naming, state_dict loading, modes and device moves.
#include "fusenas/engine/nn/module.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "fusenas/engine/grad_mode.h"

namespace fusenas::nn {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Points `t`'s TensorImpl at `replacement`'s storage, so every holder of the handle (the owning
// module's member, optimizers) sees the moved or converted data.
void swap_in(const Tensor& t, const Tensor& replacement) {
  TensorImpl& impl = t.impl();
  impl.storage = replacement.storage();
  impl.offset = replacement.offset();
  impl.strides = replacement.strides();
  impl.dtype = replacement.dtype();
}

void convert_in_place(const Tensor& t, const std::function<Tensor(const Tensor&)>& convert) {
  NoGradGuard no_grad;
  const Tensor moved = convert(t.detach());
  if (moved.storage() == t.storage() && moved.dtype() == t.dtype()) return;
  swap_in(t, moved);
  if (Tensor g = t.grad(); g.defined()) swap_in(g, convert(g.detach()));
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  FUSENAS_FAIL("{}: has no single-input forward(x)", type_name());
}

void Module::check_new_name(const std::string& name, const char* what) const {
  FUSENAS_CHECK(!name.empty() && name.find('.') == std::string::npos,
                "{}: bad {} name '{}' (must be non-empty and contain no '.')", type_name(), what,
                name);
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  FUSENAS_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_),
                "{}: cannot register {} '{}': the name is already in use", type_name(), what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name, "parameter");
  FUSENAS_CHECK(t.defined(), "{}: parameter '{}' is an undefined tensor", type_name(), name);
  FUSENAS_CHECK(t.is_leaf(), "{}: parameter '{}' must be a leaf tensor (detach it first)",
                type_name(), name);
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  FUSENAS_CHECK(t.defined(), "{}: buffer '{}' is an undefined tensor", type_name(), name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "module");
  FUSENAS_CHECK(module != nullptr, "{}: child module '{}' is null", type_name(), name);
  children_.emplace_back(name, std::move(module));
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::unordered_set<const Module*> seen;
  std::function<void(const std::string&, Module*)> walk = [&](const std::string& prefix,
                                                              Module* m) {
    if (!seen.insert(m).second) return;
    out.emplace_back(prefix, m);
    for (const auto& [name, child] : m->children_) walk(join(prefix, name), child.get());
  };
  walk("", this);
  return out;
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  std::unordered_set<const TensorImpl*> seen;
  std::function<void(const std::string&, const Module*)> walk = [&](const std::string& pre,
                                                                    const Module* m) {
    for (const auto& [name, t] : params ? m->params_ : m->buffers_) {
      if (seen.insert(t.impl_ptr().get()).second) out.emplace_back(join(pre, name), t);
    }
    for (const auto& [name, child] : m->children_) walk(join(pre, name), child.get());
  };
  walk(prefix, this);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers()) out.push_back(t);
  return out;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (const auto& [name, t] : named_parameters()) out.emplace(name, t.detach());
  for (const auto& [name, t] : named_buffers()) out.emplace(name, t.detach());
  return out;
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors targets = named_parameters();
  for (auto& entry : named_buffers()) targets.push_back(std::move(entry));

  LoadResult result;
  std::vector<std::pair<Tensor, Tensor>> copies;  // destination, source
  std::unordered_set<std::string> known;
  for (const auto& [name, dst] : targets) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      result.missing_keys.push_back(name);
      continue;
    }
    const Tensor& src = it->second;
    FUSENAS_CHECK(src.defined(), "load_state_dict: '{}' is an undefined tensor in the state dict",
                  name);
    FUSENAS_CHECK(src.shape() == dst.shape(),
                  "load_state_dict: shape mismatch for '{}': the state dict has {}, the {} has {}",
                  name, shape_str(src.shape()), type_name(), shape_str(dst.shape()));
    copies.emplace_back(dst, src);
  }
  for (const auto& [name, t] : state) {
    if (!known.count(name)) result.unexpected_keys.push_back(name);
  }
  if (strict) {
    FUSENAS_CHECK(result.missing_keys.empty(),
                  "load_state_dict: {} key(s) missing from the state dict: {}",
                  result.missing_keys.size(), fmt::join(result.missing_keys, ", "));
    FUSENAS_CHECK(result.unexpected_keys.empty(),
                  "load_state_dict: {} unexpected key(s) in the state dict: {}",
                  result.unexpected_keys.size(), fmt::join(result.unexpected_keys, ", "));
  }
  NoGradGuard no_grad;
  for (auto& [dst, src] : copies) {
    Tensor d = dst.detach();
    d.copy_(src);
  }
  return result;
}

void Module::train(bool on) {
  for (auto& [name, m] : named_modules()) m->training_ = on;
}

void Module::zero_grad() {
  for (const auto& t : parameters()) t.set_grad(Tensor());
}

void Module::to(Device device) {
  auto convert = [device](const Tensor& t) { return t.to(device); };
  for (const auto& t : parameters()) convert_in_place(t, convert);
  for (const auto& t : buffers()) convert_in_place(t, convert);
}

void Module::to(DType dtype) {
  // Only floating tensors change: integer buffers (counters, indices) keep their type.
  auto convert = [dtype](const Tensor& t) { return is_floating(t.dtype()) ? t.to(dtype) : t; };
  for (const auto& t : parameters()) convert_in_place(t, convert);
  for (const auto& t : buffers()) convert_in_place(t, convert);
}

}  // namespace fusenas::nn
