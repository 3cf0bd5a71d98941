// MixedOp: one DARTS edge, every candidate op applied to one input and mixed by softmax weights.
// The supernet only talks to this interface, so a fused CUDA kernel can replace the inside.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nas {

class MixedOp : public nn::Module {
 public:
  std::string type_name() const override { return "MixedOp"; }
  // sum_k weights[k] * op_k(x), weights [num_ops] (the softmax of the edge's alphas).
  virtual Tensor forward_mixed(const Tensor& x, const Tensor& weights) = 0;
  // op_k(x) alone, with the same weights as in the mixture: one-shot (ENAS-style) sampling.
  virtual Tensor forward_single(const Tensor& x, int op) = 0;
  virtual int num_ops() const = 0;
  // The module of candidate `op` (its weights are what the fused cell computes with).
  virtual std::shared_ptr<nn::Module> candidate(int op) const = 0;
};

// The reference MixedOp: one engine module per candidate (DARTS's search ops, affine-free BN,
// pooling followed by BN) and a weighted sum. `none` contributes exactly zero, so it is skipped.
class ComposedMixedOp : public MixedOp {
 public:
  ComposedMixedOp(const std::vector<std::string>& ops, int64_t channels, int64_t stride,
                  Generator& gen);
  Tensor forward_mixed(const Tensor& x, const Tensor& weights) override;
  Tensor forward_single(const Tensor& x, int op) override;
  int num_ops() const override { return static_cast<int>(candidates_.size()); }
  std::shared_ptr<nn::Module> candidate(int op) const override { return candidates_.at(op); }

 private:
  std::vector<std::shared_ptr<nn::Module>> candidates_;
  std::vector<int> active_;  // indices of the ops that are not `none`
  int64_t stride_;
};

std::shared_ptr<MixedOp> make_mixed_op(const std::vector<std::string>& ops, int64_t channels,
                                       int64_t stride, Generator& gen);

}  // namespace fusenas::nas
