// nn::Sequential: children named "0", "1", ... whose single-input forwards are chained.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  std::string type_name() const override { return "Sequential"; }
  Tensor forward(const Tensor& x) override;

  // Appends under the next index name.
  void push_back(std::shared_ptr<Module> module);
  size_t size() const { return named_children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
};

// make_sequential({std::make_shared<Linear>(4, 3, gen), std::make_shared<ReLU>()}).
// A braced list, not variadic arguments: its elements are built left to right, so modules
// drawing from one Generator get the same values on every compiler.
inline std::shared_ptr<Sequential> make_sequential(
    std::initializer_list<std::shared_ptr<Module>> modules) {
  return std::make_shared<Sequential>(modules);
}

}  // namespace fusenas::nn
