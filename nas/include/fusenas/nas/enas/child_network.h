// ENAS's shared-weight child networks. Both hold one set of weights for every choice and run a
// sampled architecture on them without copies, through the DARTS supernet's one-shot mechanism
// (MixedOp::forward_single): the micro space is a Supernet whose candidates are the 5 ENAS ops,
// the macro space a chain of layers that are each one MixedOp over the 6 macro ops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/nas/cell_ops.h"
#include "fusenas/nas/enas/arch.h"
#include "fusenas/nas/space/mixed_op.h"
#include "fusenas/nas/space/search_space.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas::enas {

// The micro ops under their genotype names, in ENAS's order (identity is skip_connect), so a
// MicroOp value is also the supernet's op index.
const std::vector<std::string>& micro_supernet_ops();

// The DARTS search space over micro_supernet_ops(): `cells` cells (reductions at 1/3 and 2/3) of
// `nodes` nodes, stem multiplier 3 as in ENAS.
nas::SearchSpace micro_search_space(int cells, int nodes, int64_t channels, int64_t in_channels,
                                    int64_t image_size, int64_t num_classes);

struct MicroChoice {
  CellChoice normal, reduce;
};
// The arch as one-shot choices of a supernet built on `space` (through its Genotype, so the
// unused nodes are the concatenated ones, as ENAS does).
MicroChoice micro_choice(const nas::SearchSpace& space, const MicroArch& arch);

struct MacroSpace {
  int layers = 12;
  int64_t channels = 36;  // every layer; ENAS's search keeps the width after its reductions
  int64_t in_channels = 3;
  int64_t num_classes = 10;

  // ENAS reduces every stored layer output after layers L/3 - 1 and 2L/3 - 1.
  bool reduces_after(int layer) const;
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
};

// stem (3x3 conv, BN) -> layers -> global average pool -> linear. Layer l applies its chosen op
// to layer l-1's output (the stem's for l = 0) and, from layer 1 on, adds the outputs of the
// earlier layers it skips from and normalises the sum (affine-free BN), as ENAS's search child.
class MacroSupernet : public nn::Module {
 public:
  MacroSupernet(const MacroSpace& space, Generator& gen);
  std::string type_name() const override { return "MacroSupernet"; }
  using Module::forward;  // no single-tensor forward: a forward needs an architecture

  // Only the chosen ops (and the reductions of outputs read later) run, on the shared weights.
  Tensor forward_sampled(const Tensor& x, const MacroArch& arch);
  MixedOp& layer(int l) { return *layers_.at(static_cast<size_t>(l)); }
  const MacroSpace& space() const { return space_; }

 private:
  MacroSpace space_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<MixedOp>> layers_;
  std::vector<std::shared_ptr<nn::BatchNorm2d>> skip_bn_;  // layer l uses skip_bn_[l - 1]
  // reductions_[l][j]: the reduction of layer j's output after layer l (empty unless l reduces).
  std::vector<std::vector<std::shared_ptr<FactorizedReduce>>> reductions_;
  std::shared_ptr<nn::Linear> classifier_;
};

}  // namespace fusenas::nas::enas
