// The evaluation network of the DARTS paper (NHWC).
#include "fusenas/nas/eval_network.h"

#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/cell_ops.h"

namespace fusenas::nas {

EvalCell::EvalCell(const Genotype& genotype, int64_t c_prev_prev, int64_t c_prev, int64_t c,
                   bool reduction, bool reduction_prev, Generator& gen)
    : reduction_(reduction) {
  if (reduction_prev) {
    pre0_ = register_module("preprocess0",
                            std::make_shared<FactorizedReduce>(c_prev_prev, c, true, gen));
  } else {
    pre0_ = register_module("preprocess0",
                            std::make_shared<ReLUConvBN>(c_prev_prev, c, 1, 1, 0, true, gen));
  }
  pre1_ =
      register_module("preprocess1", std::make_shared<ReLUConvBN>(c_prev, c, 1, 1, 0, true, gen));
  const auto& edges = reduction ? genotype.reduce : genotype.normal;
  concat_ = reduction ? genotype.reduce_concat : genotype.normal_concat;
  // The forward pairs edges into nodes; the rest of what a genotype may hold is checked where it
  // is used, so that an unvalidated genotype throws instead of indexing out of bounds.
  FUSENAS_CHECK(!edges.empty() && edges.size() % 2 == 0,
                "EvalCell: a cell needs nodes of two edges each, got {} edges", edges.size());
  for (size_t e = 0; e < edges.size(); ++e) {
    const int64_t stride = reduction && edges[e].input < 2 ? 2 : 1;
    ops_.push_back(register_module("ops_" + std::to_string(e),
                                   make_cell_op(edges[e].op, c, stride, true, gen)));
    inputs_.push_back(edges[e].input);
    identity_.push_back(edges[e].op == "skip_connect" && stride == 1);
  }
}

Tensor EvalCell::forward_cell(const Tensor& s0, const Tensor& s1, double drop_prob,
                              Generator& gen) {
  std::vector<Tensor> states = {pre0_->forward(s0), pre1_->forward(s1)};
  auto state = [&](int i) -> const Tensor& {
    FUSENAS_CHECK(i >= 0 && static_cast<size_t>(i) < states.size(),
                  "EvalCell: state {} does not exist yet (states 0..{} do)", i, states.size() - 1);
    return states[static_cast<size_t>(i)];
  };
  const bool drop = is_training() && drop_prob > 0;
  for (size_t e = 0; e < ops_.size(); e += 2) {
    Tensor h[2];
    for (size_t k = 0; k < 2; ++k) {
      h[k] = ops_[e + k]->forward(state(inputs_[e + k]));
      if (drop && !identity_[e + k]) h[k] = drop_path(h[k], drop_prob, true, gen);
    }
    states.push_back(add(h[0], h[1]));
  }
  std::vector<Tensor> chosen;
  for (int i : concat_) chosen.push_back(state(i));
  Tensor out = concat(chosen, 3);
  // The network plans the next cell's FactorizedReduce and the auxiliary head on this.
  const int64_t in_h = states[1].size(1), in_w = states[1].size(2);
  const int64_t want_h = reduction_ ? (in_h + 1) / 2 : in_h;
  const int64_t want_w = reduction_ ? (in_w + 1) / 2 : in_w;
  FUSENAS_CHECK(out.size(1) == want_h && out.size(2) == want_w,
                "EvalCell: a {} cell on {}x{} inputs must output {}x{}, got {}",
                reduction_ ? "reduction" : "normal", in_h, in_w, want_h, want_w,
                shape_str(out.shape()));
  return out;
}

AuxiliaryHead::AuxiliaryHead(int64_t c, int64_t input_size, int64_t num_classes, Generator& gen)
    : pool_stride_(std::max<int64_t>(1, input_size - 5)) {
  FUSENAS_CHECK(input_size >= 6, "auxiliary head needs a feature map of at least 6x6, got {}x{}",
                input_size, input_size);
  features_ = register_module("features",
                              nn::make_sequential({
                                  std::make_shared<nn::Conv2d>(c, 128, 1, Conv2dParams{}, gen),
                                  std::make_shared<nn::BatchNorm2d>(128),
                                  std::make_shared<nn::ReLU>(),
                                  std::make_shared<nn::Conv2d>(128, 768, 2, Conv2dParams{}, gen),
                                  std::make_shared<nn::BatchNorm2d>(768),
                                  std::make_shared<nn::ReLU>(),
                              }));
  classifier_ = register_module("classifier", std::make_shared<nn::Linear>(768, num_classes, gen));
}

Tensor AuxiliaryHead::forward(const Tensor& x) {
  Tensor h = features_->forward(avg_pool2d(relu(x), 5, pool_stride_, 0, false));
  return classifier_->forward(h.reshape({h.size(0), -1}));
}

EvalNetwork::EvalNetwork(const EvalNetworkConfig& config, Generator& gen) : config_(config) {
  config_.genotype.validate();
  FUSENAS_CHECK(config.layers >= 3, "evaluation network needs at least 3 layers, got {}",
                config.layers);
  const int64_t c = config.init_channels;
  const int64_t stem_c = 3 * c;
  stem_ = register_module("stem", nn::make_sequential({
                                      std::make_shared<nn::Conv2d>(config.in_channels, stem_c, 3,
                                                                   Conv2dParams::square(1, 1), gen),
                                      std::make_shared<nn::BatchNorm2d>(stem_c),
                                  }));
  int64_t c_pp = stem_c, c_p = stem_c, c_cur = c, size = config.image_size;
  bool reduction_prev = false;
  for (int i = 0; i < config.layers; ++i) {
    const bool reduction = i == config.layers / 3 || i == 2 * config.layers / 3;
    if (reduction) {
      c_cur *= 2;
      size = (size + 1) / 2;
    }
    auto cell = std::make_shared<EvalCell>(config.genotype, c_pp, c_p, c_cur, reduction,
                                           reduction_prev, gen);
    cells_.push_back(register_module("cells_" + std::to_string(i), cell));
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = cell->multiplier() * c_cur;
    if (i == 2 * config.layers / 3 && config.auxiliary) {
      aux_after_ = i;
      aux_ = register_module("auxiliary_head",
                             std::make_shared<AuxiliaryHead>(c_p, size, config.num_classes, gen));
    }
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c_p, config.num_classes, gen));
}

EvalNetwork::Output EvalNetwork::forward_full(const Tensor& x, double drop_path_prob,
                                              Generator& gen) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == config_.in_channels,
                "EvalNetwork: expected input [N, H, W, {}], got {}", config_.in_channels,
                shape_str(x.shape()));
  Output out;
  Tensor s0 = stem_->forward(x);
  Tensor s1 = s0;
  for (size_t i = 0; i < cells_.size(); ++i) {
    Tensor next = cells_[i]->forward_cell(s0, s1, drop_path_prob, gen);
    s0 = s1;
    s1 = next;
    if (static_cast<int>(i) == aux_after_ && is_training()) out.aux_logits = aux_->forward(s1);
  }
  out.logits = classifier_->forward(global_avg_pool(s1));
  return out;
}

Tensor EvalNetwork::forward(const Tensor& x) {
  Generator unused(0);
  return forward_full(x, 0.0, unused).logits;
}

int64_t EvalNetwork::num_parameters(bool include_auxiliary) const {
  int64_t n = 0;
  for (const auto& [name, p] : named_parameters()) {
    if (!include_auxiliary && name.rfind("auxiliary_head", 0) == 0) continue;
    n += p.numel();
  }
  return n;
}

std::string EvalNetwork::summary() const {
  std::string s = fmt::format("EvalNetwork: {} cells, C={}, input {}x{}x{}, {} classes{}\n",
                              config_.layers, config_.init_channels, config_.image_size,
                              config_.image_size, config_.in_channels, config_.num_classes,
                              config_.auxiliary ? ", auxiliary head" : "");
  s += fmt::format("  genotype: {}\n", config_.genotype.to_text());
  int64_t c = config_.init_channels;
  for (size_t i = 0; i < cells_.size(); ++i) {
    if (cells_[i]->reduction()) c *= 2;
    int64_t n = 0;
    for (const auto& p : cells_[i]->parameters()) n += p.numel();
    s += fmt::format("  cell {:2d} {:9} C={:4d} params {}\n", i,
                     cells_[i]->reduction() ? "reduction" : "normal", c, n);
  }
  return s;
}

}  // namespace fusenas::nas
