// nn::Linear: y = x W^T + b over the last axis.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

class Linear : public Module {
 public:
  // weight [out, in] and bias [out] both drawn from U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's
  // default), weight first.
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);

  std::string type_name() const override { return "Linear"; }
  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

  Tensor weight;
  Tensor bias;  // undefined without bias

 private:
  int64_t in_features_, out_features_;
};

}  // namespace fusenas::nn
