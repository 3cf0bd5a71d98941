// The DARTS search network (NHWC) and its one-shot sampled forward.
#include "fusenas/nas/space/supernet.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/cell_ops.h"
#include "fusenas/nas/space/cell_weights.h"
#include "fusenas/nas/space/derive.h"

namespace fusenas::nas {
namespace {

std::vector<std::vector<double>> rows_of(const Tensor& w) {
  const Tensor cpu = w.to(Device::cpu()).to(DType::Float64).contiguous();
  std::vector<std::vector<double>> rows(cpu.size(0));
  const double* p = cpu.data<double>();
  for (int64_t e = 0; e < cpu.size(0); ++e)
    rows[e].assign(p + e * cpu.size(1), p + (e + 1) * cpu.size(1));
  return rows;
}

}  // namespace

CellChoice cell_choice(const SearchSpace& space, const std::vector<GenotypeEdge>& edges,
                       const std::vector<int>& concat) {
  FUSENAS_CHECK(static_cast<int>(edges.size()) == 2 * space.nodes,
                "a cell of this search space has {} edges (2 per node), got {}", 2 * space.nodes,
                edges.size());
  CellChoice c;
  c.nodes.resize(space.nodes);
  for (size_t e = 0; e < edges.size(); ++e) {
    const int node = static_cast<int>(e / 2);
    const int op = space.op_index(edges[e].op);
    FUSENAS_CHECK(op >= 0, "op '{}' is not a candidate of this search space", edges[e].op);
    FUSENAS_CHECK(edges[e].input >= 0 && edges[e].input < node + 2, "node {} cannot read state {}",
                  node, edges[e].input);
    c.nodes[node].push_back({edges[e].input, op});
  }
  for (int s : concat)
    FUSENAS_CHECK(s >= 2 && s < space.nodes + 2, "concat state {} is not a node", s);
  c.concat = concat;
  return c;
}

SearchCell::SearchCell(const SearchSpace& space, int64_t c_prev_prev, int64_t c_prev, int64_t c,
                       bool reduction, bool reduction_prev, Generator& gen)
    : nodes_(space.nodes), reduction_(reduction) {
  if (reduction_prev) {
    pre0_ = register_module("preprocess0",
                            std::make_shared<FactorizedReduce>(c_prev_prev, c, false, gen));
  } else {
    pre0_ = register_module("preprocess0",
                            std::make_shared<ReLUConvBN>(c_prev_prev, c, 1, 1, 0, false, gen));
  }
  pre1_ =
      register_module("preprocess1", std::make_shared<ReLUConvBN>(c_prev, c, 1, 1, 0, false, gen));
  for (int node = 0; node < nodes_; ++node) {
    for (int j = 0; j < node + 2; ++j) {
      const int64_t stride = reduction && j < 2 ? 2 : 1;
      edges_.push_back(register_module("edge_" + std::to_string(edges_.size()),
                                       make_mixed_op(space.ops, c, stride, gen)));
    }
  }
  spec_.nodes = nodes_;
  spec_.channels = c;
  spec_.reduction = reduction;
  spec_.reduction_prev = reduction_prev;
  for (const std::string& name : space.ops) spec_.ops.push_back(CellOpSpec::from_name(name));
  fused_weights_.pre0 = cell_op_weights(*pre0_);
  fused_weights_.pre1 = cell_op_weights(*pre1_);
  for (const auto& e : edges_) {
    std::vector<CellOpWeights> ops;
    for (int k = 0; k < e->num_ops(); ++k) {
      nn::Module& m = *e->candidate(k);
      const bool fusable = spec_.ops[k].kind != CellOpKind::Fallback && fusable_weights(m);
      if (!fusable) spec_.ops[k] = {CellOpKind::Fallback, 0};
      ops.push_back(fusable ? cell_op_weights(m) : CellOpWeights{});
    }
    fused_weights_.edges.push_back(std::move(ops));
  }
}

Tensor SearchCell::forward_fused(const Tensor& s0, const Tensor& s1,
                                 const CellSelection& selection) {
  return darts_cell(s0, s1, spec_, fused_weights_, selection, is_training(),
                    [this](int edge, int op, const Tensor& state) {
                      return edges_[edge]->forward_single(state, op);
                    });
}

MixedOp& SearchCell::edge(int node, int input) {
  return *edges_[node * (node + 3) / 2 + input];
}

std::vector<Tensor> SearchCell::preprocess(const Tensor& s0, const Tensor& s1) {
  return {pre0_->forward(s0), pre1_->forward(s1)};
}

Tensor SearchCell::forward_mixed(const Tensor& s0, const Tensor& s1, const Tensor& weights) {
  if (fused_) {
    CellSelection selection;
    selection.mixing = weights;
    return forward_fused(s0, s1, selection);
  }
  std::vector<Tensor> states = preprocess(s0, s1);
  const int64_t k = weights.size(1);
  for (int node = 0; node < nodes_; ++node) {
    Tensor h;
    for (int j = 0; j < node + 2; ++j) {
      const Tensor w = weights.narrow(0, node * (node + 3) / 2 + j, 1).reshape({k});
      const Tensor out = edge(node, j).forward_mixed(states[j], w);
      h = h.defined() ? add(h, out) : out;
    }
    states.push_back(h);
  }
  return concat(std::vector<Tensor>(states.begin() + 2, states.end()), 3);
}

Tensor SearchCell::forward_sampled(const Tensor& s0, const Tensor& s1, const CellChoice& choice) {
  FUSENAS_CHECK(static_cast<int>(choice.nodes.size()) == nodes_,
                "sampled cell has {} nodes, the supernet {}", choice.nodes.size(), nodes_);
  if (fused_) {
    CellSelection selection;
    const int k_ops = static_cast<int>(spec_.ops.size());
    selection.counts.assign(spec_.num_edges(), std::vector<int>(k_ops, 0));
    for (int node = 0; node < nodes_; ++node) {
      FUSENAS_CHECK(!choice.nodes[node].empty(), "sampled node {} has no inputs", node);
      for (const auto& [input, op] : choice.nodes[node]) {
        FUSENAS_CHECK(input >= 0 && input < node + 2, "node {} cannot read state {}", node, input);
        FUSENAS_CHECK(op >= 0 && op < k_ops, "MixedOp: op index {} outside [0, {})", op, k_ops);
        selection.counts[DartsCellSpec::edge_index(node, input)][op] += 1;
      }
    }
    selection.node_in_output.assign(nodes_, false);
    for (int s : choice.concat) {
      FUSENAS_CHECK(s >= 2 && s < nodes_ + 2, "concat state {} is not a node", s);
      selection.node_in_output[s - 2] = true;
    }
    return forward_fused(s0, s1, selection);
  }
  std::vector<Tensor> states = preprocess(s0, s1);
  for (int node = 0; node < nodes_; ++node) {
    FUSENAS_CHECK(!choice.nodes[node].empty(), "sampled node {} has no inputs", node);
    Tensor h;
    for (const auto& [input, op] : choice.nodes[node]) {
      FUSENAS_CHECK(input >= 0 && input < node + 2, "node {} cannot read state {}", node, input);
      const Tensor out = edge(node, input).forward_single(states[input], op);
      h = h.defined() ? add(h, out) : out;
    }
    states.push_back(h);
  }
  std::vector<Tensor> outs;
  for (int node = 0; node < nodes_; ++node) {
    const bool used =
        std::find(choice.concat.begin(), choice.concat.end(), node + 2) != choice.concat.end();
    outs.push_back(used ? states[node + 2]
                        : zeros(states[node + 2].shape(), states[node + 2].options()));
  }
  return concat(outs, 3);
}

ArchParameters::ArchParameters(int edges, int ops, Generator& gen) {
  normal = register_parameter("normal", fusenas::normal({edges, ops}, 0.0, 1e-3, gen));
  reduce = register_parameter("reduce", fusenas::normal({edges, ops}, 0.0, 1e-3, gen));
}

Supernet::Supernet(const SearchSpace& space, Generator& gen) : space_(space) {
  space_.validate();
  const int64_t stem_c = space_.stem_multiplier * space_.channels;
  stem_ = register_module("stem", nn::make_sequential({
                                      std::make_shared<nn::Conv2d>(space_.in_channels, stem_c, 3,
                                                                   Conv2dParams::square(1, 1), gen),
                                      std::make_shared<nn::BatchNorm2d>(stem_c),
                                  }));
  int64_t c_pp = stem_c, c_p = stem_c, c = space_.channels;
  bool reduction_prev = false;
  for (int i = 0; i < space_.cells; ++i) {
    const bool reduction = space_.is_reduction(i);
    if (reduction) c *= 2;
    cells_.push_back(register_module(
        "cells_" + std::to_string(i),
        std::make_shared<SearchCell>(space_, c_pp, c_p, c, reduction, reduction_prev, gen)));
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = space_.nodes * c;
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c_p, space_.num_classes, gen));
  arch_ = std::make_shared<ArchParameters>(space_.num_edges(), space_.num_ops(), gen);
}

Tensor Supernet::forward_mixed(const Tensor& x, bool alpha_grad) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == space_.in_channels,
                "Supernet: expected input [N, H, W, {}], got {}", space_.in_channels,
                shape_str(x.shape()));
  const Tensor a_normal = alpha_grad ? arch_->normal : arch_->normal.detach();
  const Tensor a_reduce = alpha_grad ? arch_->reduce : arch_->reduce.detach();
  const Tensor w_normal = softmax(a_normal);
  const Tensor w_reduce = softmax(a_reduce);
  Tensor s0 = stem_->forward(x);
  Tensor s1 = s0;
  for (const auto& cell : cells_) {
    Tensor next = cell->forward_mixed(s0, s1, cell->reduction() ? w_reduce : w_normal);
    s0 = s1;
    s1 = next;
  }
  return classifier_->forward(global_avg_pool(s1));
}

Tensor Supernet::forward_sampled(const Tensor& x, const CellChoice& normal,
                                 const CellChoice& reduce) {
  Tensor s0 = stem_->forward(x);
  Tensor s1 = s0;
  for (const auto& cell : cells_) {
    Tensor next = cell->forward_sampled(s0, s1, cell->reduction() ? reduce : normal);
    s0 = s1;
    s1 = next;
  }
  return classifier_->forward(global_avg_pool(s1));
}

void Supernet::set_fused(bool fused) {
  for (const auto& cell : cells_) cell->set_fused(fused);
}

bool Supernet::fused() const {
  return !cells_.empty() && cells_.front()->fused();
}

Tensor Supernet::normal_weights() const {
  const NoGradGuard no_grad;
  return softmax(arch_->normal).to(Device::cpu());
}

Tensor Supernet::reduce_weights() const {
  const NoGradGuard no_grad;
  return softmax(arch_->reduce).to(Device::cpu());
}

Genotype Supernet::genotype() const {
  return derive_genotype(space_, rows_of(normal_weights()), rows_of(reduce_weights()));
}

void Supernet::to_device(Device device) {
  to(device);
  arch_->to(device);
}

}  // namespace fusenas::nas
