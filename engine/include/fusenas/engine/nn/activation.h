// Parameter-free activation modules, so containers such as Sequential can hold them.
#pragma once

#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

class ReLU : public Module {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace fusenas::nn
