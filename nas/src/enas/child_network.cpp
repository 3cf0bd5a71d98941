// ENAS's shared-weight children: the micro space as choices of the DARTS supernet, and the macro
// space's layer chain built from the same MixedOps.
#include "fusenas/nas/enas/child_network.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::enas {

const std::vector<std::string>& micro_supernet_ops() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> v;
    for (int k = 0; k < kNumMicroOps; ++k) {
      const auto name = std::string(micro_op_name(static_cast<MicroOp>(k)));
      v.push_back(name == "identity" ? "skip_connect" : name);
    }
    return v;
  }();
  return ops;
}

nas::SearchSpace micro_search_space(int cells, int nodes, int64_t channels, int64_t in_channels,
                                    int64_t image_size, int64_t num_classes) {
  nas::SearchSpace s;
  s.ops = micro_supernet_ops();
  s.nodes = nodes;
  s.cells = cells;
  s.channels = channels;
  s.in_channels = in_channels;
  s.image_size = image_size;
  s.num_classes = num_classes;
  return s;
}

MicroChoice micro_choice(const nas::SearchSpace& space, const MicroArch& arch) {
  const Genotype g = to_genotype(arch);
  return {cell_choice(space, g.normal, g.normal_concat),
          cell_choice(space, g.reduce, g.reduce_concat)};
}

bool MacroSpace::reduces_after(int layer) const {
  const int distance = layers / 3;
  return layer == distance - 1 || layer == 2 * distance - 1;
}

void MacroSpace::validate() const {
  FUSENAS_CHECK(layers >= 1 && layers <= 64, "macro layers must lie in [1, 64], got {}", layers);
  FUSENAS_CHECK(channels >= 2 && channels % 2 == 0,
                "channels must be even and at least 2 (FactorizedReduce halves them), got {}",
                channels);
  FUSENAS_CHECK(in_channels >= 1, "input channels must be at least 1, got {}", in_channels);
  FUSENAS_CHECK(num_classes >= 2, "classes must be at least 2, got {}", num_classes);
}

MacroSupernet::MacroSupernet(const MacroSpace& space, Generator& gen) : space_(space) {
  space_.validate();
  const int64_t c = space_.channels;
  stem_ = register_module(
      "stem",
      nn::make_sequential({
          std::make_shared<nn::Conv2d>(space_.in_channels, c, 3, Conv2dParams::square(1, 1), gen),
          std::make_shared<nn::BatchNorm2d>(c),
      }));
  reductions_.resize(static_cast<size_t>(space_.layers));
  for (int l = 0; l < space_.layers; ++l) {
    const std::string name = "layer_" + std::to_string(l);
    layers_.push_back(register_module(name, make_mixed_op(macro_op_names(), c, 1, gen)));
    if (l > 0)
      skip_bn_.push_back(
          register_module(name + "_skip_bn", std::make_shared<nn::BatchNorm2d>(c, false)));
    if (!space_.reduces_after(l)) continue;
    for (int j = 0; j <= l; ++j) {
      reductions_[l].push_back(
          register_module("pool_at_" + std::to_string(l) + "_from_" + std::to_string(j),
                          std::make_shared<FactorizedReduce>(c, c, false, gen)));
    }
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c, space_.num_classes, gen));
}

Tensor MacroSupernet::forward_sampled(const Tensor& x, const MacroArch& arch) {
  arch.validate();
  FUSENAS_CHECK(arch.num_layers() == space_.layers, "the macro arch has {} layers, the supernet {}",
                arch.num_layers(), space_.layers);
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == space_.in_channels,
                "MacroSupernet: expected input [N, H, W, {}], got {}", space_.in_channels,
                shape_str(x.shape()));
  // read_later[j]: some later layer adds layer j's output, so a reduction must carry it along.
  std::vector<bool> read_later(arch.layers.size(), false);
  for (const MacroLayer& layer : arch.layers)
    for (size_t j = 0; j < layer.skips.size(); ++j) read_later[j] = read_later[j] || layer.skips[j];

  std::vector<Tensor> outs;
  Tensor h = stem_->forward(x);
  for (int l = 0; l < space_.layers; ++l) {
    const MacroLayer& choice = arch.layers[static_cast<size_t>(l)];
    Tensor out = layers_[l]->forward_single(h, static_cast<int>(choice.op));
    if (l > 0) {
      for (int j = 0; j < l; ++j)
        if (choice.skips[static_cast<size_t>(j)]) out = add(out, outs[static_cast<size_t>(j)]);
      out = skip_bn_[static_cast<size_t>(l - 1)]->forward(out);
    }
    outs.push_back(out);
    if (space_.reduces_after(l)) {
      for (int j = 0; j <= l; ++j) {
        if (j == l || read_later[static_cast<size_t>(j)])
          outs[j] = reductions_[l][static_cast<size_t>(j)]->forward(outs[j]);
      }
    }
    h = outs.back();
  }
  return classifier_->forward(global_avg_pool(h));
}

}  // namespace fusenas::nas::enas
