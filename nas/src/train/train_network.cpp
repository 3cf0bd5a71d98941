// Building the trained network from a resolved TrainConfig: a genotype's EvalNetwork, or a chain,
// multibranch or zoph-le network at the config's width; their memory bounds, summaries and log
// names.
#include "train_network.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/run/memory_check.h"
#include "fusenas/nas/space/chain_network.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/zoph_le_network.h"
#include "fusenas/nas/space/zoph_le_space.h"

namespace fusenas::nas {
namespace {

EvalNetworkConfig eval_network_config(const TrainConfig& c, int64_t num_classes) {
  EvalNetworkConfig n;
  n.genotype = c.genotype();
  n.in_channels = c.in_channels();
  n.image_size = c.image_size();
  n.num_classes = num_classes;
  n.init_channels = c.init_channels;
  n.layers = c.layers;
  n.auxiliary = c.auxiliary > 0;
  return n;
}

// States (inputs and nodes) of the cell with fewer of them: each cell keeps at least these.
int64_t lightest_cell_states(const Genotype& g) {
  return static_cast<int64_t>(std::min(g.normal.size(), g.reduce.size()) / 2) + 2;
}

space::ChainOptions chain_options(const TrainConfig& c) {
  return space::ChainOptions::from_json(c.space_options);
}

// The chain at the config's width: the stem at init_channels and every filter count scaled by
// init_channels / stem_channels, so the searched proportions between layers stay.
space::ChainArch chain_at_width(const TrainConfig& c) {
  const space::ChainOptions o = chain_options(c);
  space::ChainArch a = space::ChainSpace(o).arch(c.space_arch);
  if (c.init_channels == o.stem_channels) return a;
  for (space::ChainLayer& l : a.layers) {
    if (!space::has_filters(l.type)) continue;
    const int64_t scaled = (l.filters * c.init_channels + o.stem_channels / 2) / o.stem_channels;
    l.filters = std::max<int64_t>(1, scaled);
  }
  return a;
}

space::ZophLeOptions zoph_le_options(const TrainConfig& c) {
  return space::ZophLeOptions::from_json(c.space_options);
}

int64_t widest_filters(const space::ZophLeOptions& o) {
  return *std::max_element(o.filters.begin(), o.filters.end());
}

// The zoph-le architecture at the config's width: every filter count scaled by init_channels /
// the options' widest, as a chain's are by its stem.
space::ZophLeArch zoph_le_at_width(const TrainConfig& c) {
  const space::ZophLeOptions o = zoph_le_options(c);
  space::ZophLeArch a = space::ZophLeSpace(o).arch(c.space_arch);
  const int64_t widest = widest_filters(o);
  if (c.init_channels == widest) return a;
  for (space::ZophLeLayer& l : a.layers)
    l.filters = std::max<int64_t>(1, (l.filters * c.init_channels + widest / 2) / widest);
  return a;
}

space::MultiBranchSpace multibranch_at_width(const TrainConfig& c) {
  space::MultiBranchOptions o = space::MultiBranchOptions::from_json(c.space_options);
  o.channels = c.init_channels;
  return space::MultiBranchSpace(o);
}

space::ImageShape image_shape(const TrainConfig& c, int64_t num_classes) {
  return {c.in_channels(), c.image_size(), num_classes};
}

// The searched width, for saying how far a run widened it.
int64_t searched_width(const TrainConfig& c) {
  if (c.space == "chain") return chain_options(c).stem_channels;
  if (c.space == "zoph-le") return widest_filters(zoph_le_options(c));
  return space::MultiBranchOptions::from_json(c.space_options).channels;
}

// Where the width stands against the space options' ("stem_channels 8 in the space options;
// filters scaled by 16/8").
std::string width_note(const TrainConfig& c) {
  const int64_t searched = searched_width(c);
  const char* name = c.space == "chain"     ? "stem_channels"
                     : c.space == "zoph-le" ? "widest filters"
                                            : "channels";
  std::string s = fmt::format("{} {} in the space options", name, searched);
  if (c.space != "multibranch" && c.init_channels != searched)
    s += fmt::format("; filters scaled by {}/{}", c.init_channels, searched);
  return s;
}

// Every layer output (and the stem's) stays alive for the backward pass: a float map each.
double space_network_lower_bound_bytes(const TrainConfig& c) {
  const auto batch = static_cast<double>(c.batch_size);
  int64_t n = c.image_size();
  double floats = batch * static_cast<double>(n * n * c.init_channels);
  if (c.space == "chain") {
    int64_t channels = c.init_channels;
    for (const space::ChainLayer& l : chain_at_width(c).layers) {
      n = (n + l.stride - 1) / l.stride;
      if (space::has_filters(l.type)) channels = l.filters;
      floats += batch * static_cast<double>(n * n * channels);
    }
  } else if (c.space == "zoph-le") {
    // No stem: the image, then each layer's map, its largest input's size (the image's when it
    // reads none) divided by its stride, rounded up.
    floats = batch * static_cast<double>(n * n * c.in_channels());
    const space::ZophLeArch a = zoph_le_at_width(c);
    std::vector<int64_t> sizes;
    for (const space::ZophLeLayer& l : a.layers) {
      int64_t in = 0;
      for (size_t j = 0; j < l.skips.size(); ++j)
        if (l.skips[j]) in = std::max(in, sizes[j]);
      const int64_t out = ((in > 0 ? in : n) + l.stride - 1) / l.stride;
      sizes.push_back(out);
      floats += batch * static_cast<double>(out * out * l.filters);
    }
  } else {
    enas::MacroSpace plan;
    plan.layers = space::MultiBranchOptions::from_json(c.space_options).layers;
    for (int l = 0; l < plan.layers; ++l) {
      floats += batch * static_cast<double>(n * n * c.init_channels);
      if (plan.reduces_after(l)) n /= 2;
    }
  }
  return 4.0 * floats;
}

}  // namespace

std::string space_architecture_text(const TrainConfig& c) {
  if (c.space == "chain") return space::to_text(chain_at_width(c));
  if (c.space == "zoph-le") return space::to_text(zoph_le_at_width(c));
  return multibranch_at_width(c).to_text(c.space_arch);
}

EvalNetwork::Output TrainNetwork::forward_train(const Tensor& x, double drop_prob,
                                                Generator& gen) const {
  if (cells) return cells->forward_full(x, drop_prob, gen);
  return {module->forward(x), Tensor()};
}

TrainNetwork build_train_network(const TrainConfig& c, int64_t num_classes, Generator& gen) {
  TrainNetwork net;
  if (c.is_genotype_network()) {
    net.cells = std::make_shared<EvalNetwork>(eval_network_config(c, num_classes), gen);
    net.module = net.cells;
    net.params = net.cells->num_parameters();
    return net;
  }
  std::shared_ptr<space::Network> built;
  if (c.space == "chain") {
    built = std::make_shared<space::ChainNetwork>(chain_at_width(c), c.init_channels,
                                                  image_shape(c, num_classes), gen);
  } else if (c.space == "zoph-le") {
    built = std::make_shared<space::ZophLeNetwork>(zoph_le_at_width(c), image_shape(c, num_classes),
                                                   gen);
  } else {
    built = multibranch_at_width(c).build(c.space_arch, image_shape(c, num_classes), gen);
  }
  net.module = built;
  net.params = built->num_parameters();
  return net;
}

void check_train_network_fits(const TrainConfig& c, Device device) {
  if (c.is_genotype_network()) {
    check_fits_in_memory(cell_stack_lower_bound_bytes(c.batch_size, c.image_size(), c.init_channels,
                                                      c.layers, lightest_cell_states(c.genotype())),
                         device, fmt::format("a network of {} cells", c.layers));
    return;
  }
  check_fits_in_memory(space_network_lower_bound_bytes(c), device,
                       fmt::format("a {} network of width {}", c.space, c.init_channels));
}

std::string describe_architecture(const TrainConfig& c) {
  if (c.is_genotype_network()) {
    const std::string& name = !c.arch_file.empty()       ? c.arch_file
                              : !c.genotype_file.empty() ? c.genotype_file
                                                         : c.arch;
    return fmt::format("{} C={} layers={}", name, c.init_channels, c.layers);
  }
  return fmt::format("{} architecture of {} ({}), width {} ({})", c.space, c.arch_file,
                     space_architecture_text(c), c.init_channels, width_note(c));
}

std::string network_summary(const TrainConfig& c, const TrainNetwork& net) {
  if (net.cells) return net.cells->summary();
  std::string s =
      fmt::format("{}: {} architecture, input {}x{}x{}, width {}", net.module->type_name(), c.space,
                  c.image_size(), c.image_size(), c.in_channels(), c.init_channels);
  s += " (" + width_note(c) + ")\n";
  s += fmt::format("  arch: {}\n", space_architecture_text(c));
  for (const auto& [name, child] : net.module->named_children()) {
    int64_t n = 0;
    for (const Tensor& p : child->parameters()) n += p.numel();
    s += fmt::format("  {:<18} {:<16} params {}\n", name, child->type_name(), n);
  }
  return s;
}

}  // namespace fusenas::nas
