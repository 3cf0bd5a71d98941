// Network morphisms of the multi-branch space: growing a 3x3 conv or sep conv to 5x5, and adding a
// skip connection where a new FactorizedReduce can hold it at zero.
#include <string>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/space/morphism.h"
#include "morphism_state.h"

namespace fusenas::nas::space {
namespace {

using enas::MacroArch;
using enas::MacroOp;
using morph::HostState;
using morph::HostTensor;

std::string layer_name(int l) {
  return "layer_" + std::to_string(l);
}

// The last reduction that layer j's output passes on its way to layer l (the largest r in
// [j, l) after which MacroNetwork reduces), or -1 when it passes none.
int last_reduction(const MacroArch& a, int j, int l) {
  enas::MacroSpace plan;
  plan.layers = a.num_layers();
  for (int r = l - 1; r >= j; --r)
    if (plan.reduces_after(r)) return r;
  return -1;
}

// Whether a skip j -> l can start at exactly zero: the FactorizedReduce that carries j's output
// past the last reduction before l must be new, i.e. not layer j's own (r == j: layer j + 1 reads
// that one) and not one some later layer already reads j through.
bool neutral_skip(const MacroArch& a, int j, int l) {
  const int r = last_reduction(a, j, l);
  if (r < 0 || r == j) return false;
  for (int m = r + 1; m < a.num_layers(); ++m)
    if (a.layers[static_cast<size_t>(m)].skips[static_cast<size_t>(j)]) return false;
  return true;
}

void check_applicable(const std::vector<Morphism>& ms, const Morphism& m, const MacroArch& a,
                      const MultiBranchSpace& space) {
  bool found = false;
  for (const Morphism& x : ms) found = found || x == m;
  FUSENAS_CHECK(found,
                "morphism {} is not applicable to '{}': it would leave the space or change the "
                "network's function (applicable_morphisms lists those that do neither)",
                to_text(m), space.to_text(MultiBranchSpace::point(a)));
}

}  // namespace

std::vector<Morphism> applicable_morphisms(const MacroArch& arch, const MultiBranchSpace& space) {
  space.validate(MultiBranchSpace::point(arch));
  std::vector<Morphism> out;
  for (int l = 0; l < arch.num_layers(); ++l) {
    const MacroOp op = arch.layers[static_cast<size_t>(l)].op;
    if (op == MacroOp::kConv3x3 || op == MacroOp::kSepConv3x3)
      out.push_back({MorphismKind::kGrowKernel, l, 5});
  }
  for (int l = 1; l < arch.num_layers(); ++l)
    for (int j = 0; j < l; ++j)
      if (!arch.layers[static_cast<size_t>(l)].skips[static_cast<size_t>(j)] &&
          neutral_skip(arch, j, l))
        out.push_back({MorphismKind::kAddSkip, l, j});
  return out;
}

MacroArch morph_arch(const MacroArch& arch, const MultiBranchSpace& space, const Morphism& m) {
  check_applicable(applicable_morphisms(arch, space), m, arch, space);
  MacroArch child = arch;
  enas::MacroLayer& layer = child.layers[static_cast<size_t>(m.layer)];
  if (m.kind == MorphismKind::kGrowKernel)
    layer.op = layer.op == MacroOp::kConv3x3 ? MacroOp::kConv5x5 : MacroOp::kSepConv5x5;
  else
    layer.skips[static_cast<size_t>(m.value)] = true;
  space.validate(MultiBranchSpace::point(child));
  return child;
}

MorphedMacro apply_morphism(const MacroNetwork& parent, const MultiBranchSpace& space,
                            const Morphism& m, Generator& gen) {
  const MacroNetworkConfig& config = parent.config();
  MacroNetworkConfig child_config = config;
  child_config.arch = morph_arch(config.arch, space, m);
  HostState s = morph::read_state(parent);
  const std::string p = layer_name(m.layer);
  if (m.kind == MorphismKind::kGrowKernel) {
    // The names MacroNetwork's ops register: ReLUConvBN's "op_conv"; SepConv's two depthwise
    // stages "1" and "5" (cell_ops.cpp).
    const bool conv = config.arch.layers[static_cast<size_t>(m.layer)].op == MacroOp::kConv3x3;
    for (const char* key : conv ? std::vector<const char*>{".op_conv.weight"}
                                : std::vector<const char*>{".1.weight", ".5.weight"})
      s[p + key] = morph::pad_kernel(morph::entry(s, p + key, "grow_kernel"), m.value);
  } else {
    FUSENAS_CHECK(config.affine,
                  "{}: the parent's batch norms are not affine, so no new skip can start at zero",
                  to_text(m));
    const int j = static_cast<int>(m.value);
    const int r = last_reduction(config.arch, j, m.layer);
    // Zero only the last FactorizedReduce on the skip's path: it alone then holds the skip at
    // zero, and its gamma still gets a gradient (a zero earlier on would block that too).
    const std::string bn = "pool_at_" + std::to_string(r) + "_from_" + std::to_string(j) + ".bn.";
    const HostTensor zeros{{config.channels},
                           std::vector<double>(static_cast<size_t>(config.channels), 0.0)};
    s[bn + "weight"] = zeros;
    s[bn + "bias"] = zeros;
  }
  auto child = std::make_shared<MacroNetwork>(child_config, gen);
  // add_skip leaves the new reductions' convs (and those earlier on the path) freshly drawn.
  morph::hand_over(*child, parent, s, /*complete=*/m.kind == MorphismKind::kGrowKernel, to_text(m));
  return {child_config.arch, m, std::move(child)};
}

MorphedMacro apply_random_morphism(const MacroNetwork& parent, const MultiBranchSpace& space,
                                   Generator& gen) {
  const Morphism m =
      morph::pick(applicable_morphisms(parent.config().arch, space), gen,
                  "'" + space.to_text(MultiBranchSpace::point(parent.config().arch)) + "'");
  return apply_morphism(parent, space, m, gen);
}

}  // namespace fusenas::nas::space
