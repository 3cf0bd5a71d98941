// The standalone ENAS macro network: MacroSupernet's structure with one op per layer.
#include "fusenas/nas/space/macro_network.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/enas/child_network.h"

namespace fusenas::nas::space {
namespace {

bool is_pool(enas::MacroOp op) {
  return op == enas::MacroOp::kMaxPool3x3 || op == enas::MacroOp::kAvgPool3x3;
}

enas::MacroSpace reduction_plan(const MacroNetworkConfig& c) {
  enas::MacroSpace s;
  s.layers = c.arch.num_layers();
  s.channels = c.channels;
  s.in_channels = c.in_channels;
  s.num_classes = c.num_classes;
  return s;
}

// The op of one layer, as the supernet's candidate of that name (mixed_op.cpp): the search
// follows pooling with BN so pooled features are on the scale of the normalised convolutions.
std::shared_ptr<nn::Module> make_layer_op(enas::MacroOp op, int64_t c, bool affine,
                                          Generator& gen) {
  auto m = make_cell_op(std::string(enas::macro_op_name(op)), c, 1, affine, gen);
  if (is_pool(op)) return nn::make_sequential({m, std::make_shared<nn::BatchNorm2d>(c, affine)});
  return m;
}

}  // namespace

void MacroNetworkConfig::validate() const {
  arch.validate();
  FUSENAS_CHECK(arch.num_layers() <= 64, "macro network: at most 64 layers, got {}",
                arch.num_layers());
  reduction_plan(*this).validate();
}

bool MacroNetwork::carried(int l, int after) const {
  for (int m = after + 1; m < config_.arch.num_layers(); ++m)
    if (config_.arch.layers[static_cast<size_t>(m)].skips[static_cast<size_t>(l)]) return true;
  return false;
}

MacroNetwork::MacroNetwork(const MacroNetworkConfig& config, Generator& gen) : config_(config) {
  config_.validate();
  const int64_t c = config_.channels;
  const bool affine = config_.affine;
  const enas::MacroSpace plan = reduction_plan(config_);
  stem_ = register_module(
      "stem",
      nn::make_sequential({
          std::make_shared<nn::Conv2d>(config_.in_channels, c, 3, Conv2dParams::square(1, 1), gen),
          std::make_shared<nn::BatchNorm2d>(c),
      }));
  const int layers = config_.arch.num_layers();
  reductions_.resize(static_cast<size_t>(layers));
  for (int l = 0; l < layers; ++l) {
    const std::string name = "layer_" + std::to_string(l);
    layers_.push_back(register_module(
        name, make_layer_op(config_.arch.layers[static_cast<size_t>(l)].op, c, affine, gen)));
    if (l > 0) {
      skip_bn_.push_back(
          register_module(name + "_skip_bn", std::make_shared<nn::BatchNorm2d>(c, affine)));
    }
    if (!plan.reduces_after(l)) continue;
    auto& row = reductions_[static_cast<size_t>(l)];
    for (int j = 0; j <= l; ++j) {
      // The supernet has one for every earlier output; an output no later layer reads needs none.
      row.push_back(
          j == l || carried(j, l)
              ? register_module("pool_at_" + std::to_string(l) + "_from_" + std::to_string(j),
                                std::make_shared<FactorizedReduce>(c, c, affine, gen))
              : nullptr);
    }
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c, config_.num_classes, gen));
}

Tensor MacroNetwork::forward(const Tensor& x) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == config_.in_channels,
                "MacroNetwork: expected input [N, H, W, {}], got {}", config_.in_channels,
                shape_str(x.shape()));
  std::vector<Tensor> outs;
  Tensor h = stem_->forward(x);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const enas::MacroLayer& layer = config_.arch.layers[l];
    Tensor out = layers_[l]->forward(h);
    if (l > 0) {
      for (size_t j = 0; j < l; ++j)
        if (layer.skips[j]) out = add(out, outs[j]);
      out = skip_bn_[l - 1]->forward(out);
    }
    outs.push_back(out);
    const auto& row = reductions_[l];
    if (!row.empty()) {
      // FactorizedReduce's two stride-2 halves (one shifted by a pixel) agree only on even maps.
      FUSENAS_CHECK(out.size(1) % 2 == 0 && out.size(2) % 2 == 0,
                    "MacroNetwork: layer {} reduces a {}x{} map; a reduction needs even sizes "
                    "(an input whose size is a multiple of 4 for two reductions)",
                    l, out.size(1), out.size(2));
      for (size_t j = 0; j < row.size(); ++j)
        if (row[j]) outs[j] = row[j]->forward(outs[j]);
    }
    h = outs.back();
  }
  return classifier_->forward(global_avg_pool(h));
}

int64_t MacroNetwork::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

int64_t macro_parameter_count(const MacroNetworkConfig& config) {
  config.validate();
  const int64_t c = config.channels;
  const int64_t bn = config.affine ? 2 * c : 0;
  const enas::MacroSpace plan = reduction_plan(config);
  int64_t total = config.in_channels * c * 9 + 2 * c;  // the stem's BN is always affine
  const int layers = config.arch.num_layers();
  for (int l = 0; l < layers; ++l) {
    switch (config.arch.layers[static_cast<size_t>(l)].op) {
      case enas::MacroOp::kConv3x3:
        total += 9 * c * c + bn;
        break;
      case enas::MacroOp::kConv5x5:
        total += 25 * c * c + bn;
        break;
      case enas::MacroOp::kSepConv3x3:
        total += 2 * (9 * c + c * c + bn);
        break;
      case enas::MacroOp::kSepConv5x5:
        total += 2 * (25 * c + c * c + bn);
        break;
      case enas::MacroOp::kMaxPool3x3:
      case enas::MacroOp::kAvgPool3x3:
        total += bn;
        break;
    }
    if (l > 0) total += bn;  // the skip sum's BN
    if (!plan.reduces_after(l)) continue;
    for (int j = 0; j <= l; ++j) {
      bool read = j == l;
      for (int m = l + 1; m < layers && !read; ++m)
        read = config.arch.layers[static_cast<size_t>(m)].skips[static_cast<size_t>(j)];
      if (read) total += c * c + bn;  // FactorizedReduce(c, c): two 1x1 convs to c / 2, BN
    }
  }
  return total + c * config.num_classes + config.num_classes;
}

}  // namespace fusenas::nas::space
