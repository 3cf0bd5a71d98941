// Network morphisms (weight inheritance): function-preserving changes to a trained network of the
// chain or the multi-branch space that give a child architecture of the same space and a child
// network whose weights come from the parent, so an evolution or hill-climbing child starts from
// its parent's training instead of from scratch (Chen et al. 2016, Net2Net; Elsken et al. 2017;
// Cai et al. 2018).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/nas/enas/macro_arch.h"
#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/chain_network.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/macro_network.h"
#include "fusenas/nas/space/multibranch_space.h"

namespace fusenas::nas::space {

// What a morphism does. "Preserves the function" always means: in evaluation mode (BN on its
// running statistics) the child's logits equal the parent's up to rounding, in float32 and in
// float64; the parent's mode, dtype and device carry over to the child.
//
// Chain space (ChainNetwork; every conv and sep_conv layer is ReLU -> conv(s) -> BN, so a layer's
// output is a BN output and may be negative):
// - kDeepen: insert a stride-1 conv layer of `value` x `value` kernel at index `layer` (0: right
//   after the stem) whose filters equal its input channels; its conv is the identity kernel (centre
//   tap 1 on the diagonal) and its BN the identity (running mean 0, running var 1, gamma
//   sqrt(1 + eps), beta 0). The layer thus computes ReLU(x). That equals the parent's function
//   only if the parent applied that ReLU anyway, so deepen is offered only where the layers after
//   the insertion point, up to the first conv or sep_conv (which starts with ReLU, and ReLU is
//   idempotent), are identities and max pools (which commute with ReLU). Before an avg pool or
//   before the classifier's global average pool the ReLU would change the function, so no deepen
//   is offered there. The input channel count must be one of the space's filter counts.
// - kWiden: layer `layer` (conv or sep_conv) gets `value` filters (a larger count of the space's
//   list). Net2Net's wider: new filter j copies a random old filter g(j) (its conv weights and its
//   BN parameters and statistics); the next layer that reads those channels (past identities and
//   pools, which act per channel) divides its incoming weights of channel j by the number of copies
//   of g(j) (for a sep_conv reader the depthwise filter is copied and the 1x1 weights divided; for
//   the classifier its weight columns). No symmetry-breaking noise is added: the function must be
//   kept exactly, and the copies diverge once training sees their different downstream weights.
// - kGrowKernel: layer `layer` (conv or sep_conv) gets kernel `value` (a larger kernel of the
//   space's list), its k x k (depthwise) weights zero-padded to the centre of value x value. The
//   padding grows with the kernel (k / 2), so every output pixel sees the same centred window.
//
// Multi-branch space (MacroNetwork): every layer has the same width and the layer count is fixed,
// so there is no deepen or widen.
// - kGrowKernel: layer `layer`'s conv_3x3 becomes conv_5x5 or its sep_conv_3x3 sep_conv_5x5 (both
//   depthwise stages padded); `value` is 5.
// - kAddSkip: layer `layer` also reads layer `value`'s output. The macro network adds skips
//   without any weight of their own and normalises the sum with BN, so an added skip is exactly
//   neutral only where its path passes a FactorizedReduce that exists for this skip alone: when
//   layer `value`'s output crosses a reduction before reaching layer `layer` and no other layer
//   already reads it past the last such reduction. That new FactorizedReduce's BN gets gamma 0 and
//   beta 0, so it contributes exactly zero (in training mode too) while gamma still receives a
//   gradient. Only offered for affine networks (MultiBranchSpace builds affine ones).
enum class MorphismKind : int { kDeepen, kWiden, kAddSkip, kGrowKernel };

// "deepen", "widen", "add_skip", "grow_kernel".
std::string_view morphism_kind_name(MorphismKind kind);

struct Morphism {
  MorphismKind kind = MorphismKind::kDeepen;
  int layer = 0;      // see MorphismKind: the insertion index, the changed or the reading layer
  int64_t value = 0;  // deepen: kernel; widen: filters; grow_kernel: kernel; add_skip: source layer
  friend bool operator==(const Morphism&, const Morphism&) = default;
};

// "deepen@2 k3", "widen@1 to 64", "grow_kernel@0 to 5", "add_skip 0->4".
std::string to_text(const Morphism& m);

// ---- chain space ----

// Every function-preserving morphism of `arch` whose child is a valid point of `space` (see
// MorphismKind for the rules), in a fixed order: deepens by position then kernel, widens by layer
// then filters, kernel growths by layer then kernel. Empty when none applies.
std::vector<Morphism> applicable_morphisms(const ChainArch& arch, const ChainSpace& space);
// The child architecture alone (no weights). Throws fusenas::Error unless `m` is applicable.
ChainArch morph_arch(const ChainArch& arch, const ChainSpace& space, const Morphism& m);

struct MorphedChain {
  ChainArch arch;
  Morphism morphism;
  std::shared_ptr<ChainNetwork> network;
};

// The child of a (trained) parent: `parent` must be the network of `parent_arch` built with
// space.options().stem_channels (checked by its parameter names and shapes). `gen` draws Net2Net's
// filter copies and the initial weights of anything new that the morphism leaves free. Throws
// fusenas::Error unless `m` is applicable.
MorphedChain apply_morphism(const ChainNetwork& parent, const ChainArch& parent_arch,
                            const ChainSpace& space, const Morphism& m, Generator& gen);
// One of applicable_morphisms, uniformly. Throws fusenas::Error when there is none.
MorphedChain apply_random_morphism(const ChainNetwork& parent, const ChainArch& parent_arch,
                                   const ChainSpace& space, Generator& gen);

// ---- multi-branch space ----

// Kernel growths by layer, then added skips by reading layer and source; `space` fixes the
// layer count (the arch must be a point of it).
std::vector<Morphism> applicable_morphisms(const enas::MacroArch& arch,
                                           const MultiBranchSpace& space);
enas::MacroArch morph_arch(const enas::MacroArch& arch, const MultiBranchSpace& space,
                           const Morphism& m);

struct MorphedMacro {
  enas::MacroArch arch;
  Morphism morphism;
  std::shared_ptr<MacroNetwork> network;
};

// The parent's architecture, width and shape come from its config; add_skip also needs an affine
// parent. Throws fusenas::Error unless `m` is applicable.
MorphedMacro apply_morphism(const MacroNetwork& parent, const MultiBranchSpace& space,
                            const Morphism& m, Generator& gen);
MorphedMacro apply_random_morphism(const MacroNetwork& parent, const MultiBranchSpace& space,
                                   Generator& gen);

}  // namespace fusenas::nas::space
