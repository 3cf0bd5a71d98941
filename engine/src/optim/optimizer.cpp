// optim::Optimizer: parameter bookkeeping and the state_dict format shared by every optimizer.
#include "fusenas/engine/optim/optimizer.h"

#include <cmath>
#include <string_view>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas::optim {
namespace {

// Splits "<index>.<name>"; false when the key has another form.
bool parse_key(const std::string& key, size_t& index, std::string& name) {
  const size_t dot = key.find('.');
  if (dot == 0 || dot == std::string::npos || dot > 9) return false;
  index = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (key[i] < '0' || key[i] > '9') return false;
    index = index * 10 + static_cast<size_t>(key[i] - '0');
  }
  name = key.substr(dot + 1);
  return true;
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    FUSENAS_CHECK(p.defined(), "optimizer: parameter {} is an undefined tensor", i);
    FUSENAS_CHECK(is_floating(p.dtype()), "optimizer: parameter {} {} has dtype {}", i,
                  shape_str(p.shape()), dtype_name(p.dtype()));
    FUSENAS_CHECK(p.is_leaf(), "optimizer: parameter {} {} is not a leaf tensor", i,
                  shape_str(p.shape()));
    for (size_t j = 0; j < i; ++j) {
      FUSENAS_CHECK(!params_[j].same(p), "optimizer: parameter {} is listed twice (at {} and {})",
                    shape_str(p.shape()), j, i);
    }
  }
  set_lr(lr);
}

void Optimizer::set_lr(double lr) {
  FUSENAS_CHECK(std::isfinite(lr) && lr >= 0, "optimizer: invalid learning rate {}", lr);
  lr_ = lr;
  if (lr_device_.defined()) lr_device_.fill_(lr);
}

void Optimizer::keep_scalars_on_device() {
  if (scalars_on_device()) return;
  FUSENAS_CHECK(!params_.empty() && params_.front().is_cuda(),
                "optimizer: scalars can live on the device only for CUDA parameters");
  NoGradGuard no_grad;
  const auto f64 = TensorOptions{}.with_dtype(DType::Float64).with_device(params_.front().device());
  for (const auto& [name, values] : counters_) {
    for (double v : values) {
      FUSENAS_CHECK(v == values.front(),
                    "optimizer: counter '{}' differs between parameters ({} and {}); on the device "
                    "one count serves them all",
                    name, values.front(), v);
    }
    device_counters_[name] = full({}, values.empty() ? 0.0 : values.front(), f64);
  }
  device_one_ = full({}, 1.0, f64);
  lr_device_ = full({}, lr_, f64);
}

const Tensor& Optimizer::advance_device_counter(const std::string& name) {
  const Tensor& c = device_counters_.at(name);
  c.add_(device_one_);
  return c;
}

void Optimizer::zero_grad() {
  for (const auto& p : params_) p.set_grad(Tensor());
}

void Optimizer::declare_slot(const std::string& name) {
  slots_[name].assign(params_.size(), Tensor());
}

void Optimizer::declare_counter(const std::string& name) {
  counters_[name].assign(params_.size(), 0.0);
}

Optimizer::Active Optimizer::active() {
  Active a;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    FUSENAS_CHECK(p.is_contiguous(), "optimizer: parameter {} {} is not contiguous", i,
                  shape_str(p.shape()));
    FUSENAS_CHECK(g.device() == p.device() && g.dtype() == p.dtype(),
                  "optimizer: gradient of parameter {} {} is {} {}, the parameter {} {}", i,
                  shape_str(p.shape()), g.device().str(), dtype_name(g.dtype()), p.device().str(),
                  dtype_name(p.dtype()));
    if (!a.params.empty()) {
      FUSENAS_CHECK(p.device() == a.params.front().device(),
                    "optimizer: parameters on different devices ({} and {})",
                    a.params.front().device().str(), p.device().str());
    }
    for (auto& [name, slot] : slots_) {
      Tensor& s = slot[i];
      if (s.defined() && (s.device() != p.device() || s.dtype() != p.dtype())) {
        NoGradGuard no_grad;
        s = s.to(p.device()).to(p.dtype()).contiguous();
      }
    }
    a.index.push_back(i);
    a.params.push_back(p);
    a.grads.push_back(g.contiguous());
  }
  return a;
}

Tensor Optimizer::state_tensor(size_t index, const std::string& name) const {
  const auto it = slots_.find(name);
  if (it == slots_.end() || index >= it->second.size()) return {};
  return it->second[index];
}

OptimizerState Optimizer::state_dict() const {
  NoGradGuard no_grad;
  OptimizerState out;
  out.scalars["lr"] = lr_;
  for (const auto& [name, slot] : slots_) {
    for (size_t i = 0; i < slot.size(); ++i) {
      if (slot[i].defined()) out.tensors[fmt::format("{}.{}", i, name)] = slot[i].clone();
    }
  }
  for (const auto& [name, values] : counters_) {
    const auto on_device = device_counters_.find(name);
    const double shared = on_device != device_counters_.end() ? on_device->second.item() : 0.0;
    for (size_t i = 0; i < values.size(); ++i) {
      const double v = on_device != device_counters_.end() ? shared : values[i];
      if (v != 0) out.scalars[fmt::format("{}.{}", i, name)] = v;
    }
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  auto check_key = [&](const std::string& key, size_t& index, std::string& name) {
    FUSENAS_CHECK(parse_key(key, index, name) && index < params_.size(),
                  "optimizer load_state_dict: bad key '{}' (expected '<index>.<name>' with index "
                  "below {})",
                  key, params_.size());
  };
  for (const auto& [key, t] : state.tensors) {
    size_t i;
    std::string name;
    check_key(key, i, name);
    FUSENAS_CHECK(slots_.count(name), "optimizer load_state_dict: unknown state tensor '{}'", key);
    FUSENAS_CHECK(t.defined() && t.shape() == params_[i].shape(),
                  "optimizer load_state_dict: shape mismatch for '{}': the state has {}, "
                  "parameter {} has {}",
                  key, t.defined() ? shape_str(t.shape()) : std::string("undefined"), i,
                  shape_str(params_[i].shape()));
  }
  for (const auto& [key, v] : state.scalars) {
    if (key == "lr") continue;
    size_t i;
    std::string name;
    check_key(key, i, name);
    FUSENAS_CHECK(counters_.count(name), "optimizer load_state_dict: unknown scalar '{}'", key);
  }
  for (const auto& [name, counter] : device_counters_) {
    std::vector<double> values(params_.size(), 0.0);
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto it = state.scalars.find(fmt::format("{}.{}", i, name));
      if (it != state.scalars.end()) values[i] = it->second;
    }
    for (double v : values) {
      FUSENAS_CHECK(v == values.front(),
                    "optimizer load_state_dict: counter '{}' differs between parameters ({} and "
                    "{}), but the scalars live on the device, where one count serves them all",
                    name, values.front(), v);
    }
  }
  if (auto it = state.scalars.find("lr"); it != state.scalars.end()) set_lr(it->second);

  NoGradGuard no_grad;
  for (auto& [name, slot] : slots_) slot.assign(params_.size(), Tensor());
  for (auto& [name, values] : counters_) values.assign(params_.size(), 0.0);
  for (const auto& [key, t] : state.tensors) {
    size_t i;
    std::string name;
    parse_key(key, i, name);
    Tensor copy = Tensor::empty(params_[i].shape(), params_[i].options());
    copy.copy_(t);
    slots_[name][i] = copy;
  }
  for (const auto& [key, v] : state.scalars) {
    size_t i;
    std::string name;
    if (key != "lr" && parse_key(key, i, name)) counters_[name][i] = v;
  }
  for (const auto& [name, counter] : device_counters_) {
    counter.fill_(counters_.at(name).empty() ? 0.0 : counters_.at(name).front());
  }
}

}  // namespace fusenas::optim
