// TreeCell's forward: the leaves' projections, then the tree level by level with inject and
// cell index, all engine ops so autograd gives the backward.
#include "fusenas/nas/rnn/tree_cell.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "rnn/step_mask.h"

namespace fusenas::nas::rnn {
namespace {

Tensor combine(TreeCombination combination, const Tensor& a, const Tensor& b) {
  return combination == TreeCombination::kAdd ? add(a, b) : mul(a, b);
}

std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? shape_str(t.shape()) : std::string("undefined");
}

}  // namespace

TreeCell::TreeCell(TreeCellArch arch, int64_t input_size, int64_t hidden_size, Generator& gen,
                   bool bias_on)
    : arch_(std::move(arch)), input_size_(input_size), hidden_size_(hidden_size) {
  arch_.validate();
  FUSENAS_CHECK(input_size > 0 && hidden_size > 0,
                "TreeCell: sizes must be positive, got input={} hidden={}", input_size,
                hidden_size);
  const int64_t rows = arch_.base * hidden_size;
  weight_x = register_parameter("weight_x", Tensor::empty({rows, input_size}));
  weight_h = register_parameter("weight_h", Tensor::empty({rows, hidden_size}));
  if (bias_on) bias = register_parameter("bias", Tensor::empty({rows}));
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (const Tensor& p : parameters()) nn::init::uniform_(p, -bound, bound, gen);
}

TreeCellState TreeCell::zero_state(int64_t n) const {
  const TensorOptions options = weight_x.options();
  return {zeros({n, hidden_size_}, options), zeros({n, hidden_size_}, options)};
}

TreeCellState TreeCell::forward(const Tensor& x, const TreeCellState& state, const Tensor& h_mask) {
  FUSENAS_CHECK(x.defined() && x.dim() == 2 && x.shape()[1] == input_size_,
                "TreeCell: expected input [N, {}], got {}", input_size_, shape_or_undefined(x));
  const Shape hidden_shape{x.shape()[0], hidden_size_};
  FUSENAS_CHECK(state.h.defined() && state.c.defined() && state.h.shape() == hidden_shape &&
                    state.c.shape() == hidden_shape,
                "TreeCell: expected state h and c of shape {}, got {} and {}",
                shape_str(hidden_shape), shape_or_undefined(state.h), shape_or_undefined(state.c));
  const int64_t h = hidden_size_;
  const Tensor xs = linear(x, masked_weight(weight_masks_, 0, weight_x));
  check_h_mask("TreeCell", h_mask, state.h);
  const Tensor hs =
      linear(masked(state.h, h_mask), masked_weight(weight_masks_, 1, weight_h), bias);

  Tensor c_next;
  int index = 0;
  // pre_k -> the output its parent reads: the node's activation, then the inject if it is here.
  auto finish = [&](const Tensor& pre) {
    const TreeNode& node = arch_.nodes[static_cast<size_t>(index)];
    if (index == arch_.cell_index) c_next = pre;
    Tensor out = apply_activation(node.activation, pre);
    if (index == arch_.inject_index) {
      out = apply_activation(arch_.inject_activation,
                             combine(arch_.inject_combination, out, state.c));
    }
    ++index;
    return out;
  };

  std::vector<Tensor> level;
  for (int i = 0; i < arch_.base; ++i) {
    const TreeCombination comb = arch_.nodes[static_cast<size_t>(i)].combination;
    level.push_back(finish(combine(comb, xs.narrow(1, i * h, h), hs.narrow(1, i * h, h))));
  }
  while (level.size() > 1) {
    std::vector<Tensor> next;
    for (size_t p = 0; p + 1 < level.size(); p += 2) {
      const TreeCombination comb = arch_.nodes[static_cast<size_t>(index)].combination;
      next.push_back(finish(combine(comb, level[p], level[p + 1])));
    }
    level = std::move(next);
  }
  return {level.front(), c_next};
}

}  // namespace fusenas::nas::rnn
