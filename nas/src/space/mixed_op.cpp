// The reference MixedOp built from engine ops.
#include "fusenas/nas/space/mixed_op.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/cell_ops.h"

namespace fusenas::nas {
namespace {

std::shared_ptr<nn::Module> search_candidate(const std::string& name, int64_t c, int64_t stride,
                                             Generator& gen) {
  std::shared_ptr<nn::Module> op = make_cell_op(name, c, stride, /*affine=*/false, gen);
  // DARTS follows pooling with an affine-free BN during search, so pooled features are on the
  // same scale as the convolutions' normalised ones.
  if (name == "max_pool_3x3" || name == "avg_pool_3x3")
    return nn::make_sequential({op, std::make_shared<nn::BatchNorm2d>(c, false)});
  return op;
}

// weights[indices] as a 1-d tensor, differentiable; one narrow when the indices are contiguous.
Tensor pick(const Tensor& weights, const std::vector<int>& indices) {
  const bool contiguous = indices.back() - indices.front() + 1 == static_cast<int>(indices.size());
  if (contiguous) return weights.narrow(0, indices.front(), static_cast<int64_t>(indices.size()));
  std::vector<Tensor> parts;
  for (int i : indices) parts.push_back(weights.narrow(0, i, 1));
  return concat(parts, 0);
}

}  // namespace

ComposedMixedOp::ComposedMixedOp(const std::vector<std::string>& ops, int64_t channels,
                                 int64_t stride, Generator& gen)
    : stride_(stride) {
  for (size_t k = 0; k < ops.size(); ++k) {
    candidates_.push_back(
        register_module(std::to_string(k), search_candidate(ops[k], channels, stride, gen)));
    if (ops[k] != "none") active_.push_back(static_cast<int>(k));
  }
  FUSENAS_CHECK(!active_.empty(), "MixedOp needs at least one op besides none");
}

Tensor ComposedMixedOp::forward_mixed(const Tensor& x, const Tensor& weights) {
  FUSENAS_CHECK(weights.dim() == 1 && weights.size(0) == num_ops(),
                "MixedOp: expected {} weights, got shape {}", num_ops(),
                shape_str(weights.shape()));
  std::vector<Tensor> outs;
  outs.reserve(active_.size());
  for (int k : active_) outs.push_back(candidates_[k]->forward(x));
  return weighted_sum(outs, pick(weights, active_));
}

Tensor ComposedMixedOp::forward_single(const Tensor& x, int op) {
  FUSENAS_CHECK(op >= 0 && op < num_ops(), "MixedOp: op index {} outside [0, {})", op, num_ops());
  return candidates_[op]->forward(x);
}

std::shared_ptr<MixedOp> make_mixed_op(const std::vector<std::string>& ops, int64_t channels,
                                       int64_t stride, Generator& gen) {
  return std::make_shared<ComposedMixedOp>(ops, channels, stride, gen);
}

}  // namespace fusenas::nas
