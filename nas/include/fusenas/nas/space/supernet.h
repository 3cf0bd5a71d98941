// The DARTS search network: a stem, cells whose every edge is a MixedOp, global pooling and a
// classifier, plus the architecture parameters (alphas) kept apart from the weights.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/engine/darts_cell.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/nas/genotype.h"
#include "fusenas/nas/space/mixed_op.h"
#include "fusenas/nas/space/search_space.h"

namespace fusenas::nas {

// A discrete choice inside the supernet (one-shot sampling): for each node the (input, op index)
// pairs it sums, and the nodes that reach the cell output (the others are zeroed, which equals
// leaving their slice of the next 1x1 preprocessing conv out).
struct CellChoice {
  std::vector<std::vector<std::pair<int, int>>> nodes;
  std::vector<int> concat;  // state indices, 2 .. nodes+1
};

// A genotype's cell as a CellChoice of `space` (throws when an op is not one of its candidates).
CellChoice cell_choice(const SearchSpace& space, const std::vector<GenotypeEdge>& edges,
                       const std::vector<int>& concat);

class SearchCell : public nn::Module {
 public:
  SearchCell(const SearchSpace& space, int64_t c_prev_prev, int64_t c_prev, int64_t c,
             bool reduction, bool reduction_prev, Generator& gen);
  std::string type_name() const override { return "SearchCell"; }
  // weights [edges, ops]: node i = sum over its inputs j of MixedOp(i, j)(state j).
  Tensor forward_mixed(const Tensor& s0, const Tensor& s1, const Tensor& weights);
  Tensor forward_sampled(const Tensor& s0, const Tensor& s1, const CellChoice& choice);
  bool reduction() const { return reduction_; }

  // The fused darts_cell op (default) or the op-by-op composition of the MixedOps, on the same
  // weights. Ops the fused op cannot compute run composed inside it either way.
  void set_fused(bool fused) { fused_ = fused; }
  bool fused() const { return fused_; }

 private:
  std::vector<Tensor> preprocess(const Tensor& s0, const Tensor& s1);
  MixedOp& edge(int node, int input);
  Tensor forward_fused(const Tensor& s0, const Tensor& s1, const CellSelection& selection);

  int nodes_;
  bool reduction_;
  std::shared_ptr<nn::Module> pre0_, pre1_;
  std::vector<std::shared_ptr<MixedOp>> edges_;
  bool fused_ = true;
  DartsCellSpec spec_;
  DartsCellWeights fused_weights_;
};

// The alphas as a module of their own, so they move, checkpoint and optimise apart from the
// weights: "normal" and "reduce", each [edges, ops].
class ArchParameters : public nn::Module {
 public:
  ArchParameters(int edges, int ops, Generator& gen);
  std::string type_name() const override { return "ArchParameters"; }
  Tensor normal, reduce;
};

class Supernet : public nn::Module {
 public:
  // Draws the weights, then the alphas (1e-3 * N(0, 1), as DARTS), from `gen`.
  Supernet(const SearchSpace& space, Generator& gen);
  std::string type_name() const override { return "Supernet"; }

  // The continuous relaxation: every edge mixes its ops by softmax(alpha). With alpha_grad false
  // the alphas are constants of this forward (the weight step needs no alpha gradient).
  Tensor forward_mixed(const Tensor& x, bool alpha_grad = true);
  Tensor forward(const Tensor& x) override { return forward_mixed(x, true); }
  // One-shot: only the chosen ops run, on the same shared weights.
  Tensor forward_sampled(const Tensor& x, const CellChoice& normal, const CellChoice& reduce);

  // Every cell fused (default) or composed; see SearchCell::set_fused.
  void set_fused(bool fused);
  bool fused() const;

  ArchParameters& arch() { return *arch_; }
  const ArchParameters& arch() const { return *arch_; }
  // Softmax of each cell type's alphas, [edges, ops], detached.
  Tensor normal_weights() const;
  Tensor reduce_weights() const;
  // DARTS's derivation from the current alphas.
  Genotype genotype() const;
  const SearchSpace& space() const { return space_; }
  // Moves weights and alphas; handles stay valid.
  void to_device(Device device);

 private:
  SearchSpace space_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<SearchCell>> cells_;
  std::shared_ptr<nn::Linear> classifier_;
  std::shared_ptr<ArchParameters> arch_;
};

}  // namespace fusenas::nas
