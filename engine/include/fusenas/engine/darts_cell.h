// darts_cell: one engine op that computes a whole DARTS search cell (preprocessing, every
// candidate op of every edge, the weighted node sums) in a few passes, with a hand-written
// backward. CPU and CUDA. The op-by-op composition in nas/ is its reference.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas {

// The candidate ops the fused path computes itself. `Fallback` ops are computed by a callback
// (the composed module) and only weighted and summed by the op.
enum class CellOpKind { None, MaxPool, AvgPool, Skip, SepConv, DilConv, Fallback };

struct CellOpSpec {
  CellOpKind kind = CellOpKind::None;
  int kernel = 0;  // SepConv / DilConv: 3, 5 or 7

  // The DARTS name ("sep_conv_3x3", "max_pool_3x3", ...) as a spec; unknown names are Fallback.
  static CellOpSpec from_name(const std::string& name);
};

struct DartsCellSpec {
  int nodes = 4;
  int64_t channels = 16;        // C of the cell's nodes
  bool reduction = false;       // edges from the two cell inputs have stride 2
  bool reduction_prev = false;  // the first input is reduced by FactorizedReduce
  std::vector<CellOpSpec> ops;  // the candidates of every edge
  double bn_momentum = 0.1, bn_eps = 1e-5;

  int num_edges() const { return nodes * (nodes + 3) / 2; }
  static int edge_index(int node, int input) { return node * (node + 3) / 2 + input; }
};

// One batch norm's running statistics (both undefined when it keeps none).
struct CellBatchNorm {
  Tensor running_mean, running_var;
};

// The weights of one op instance, in a fixed order per kind:
//   SepConv: params {dw1 [C,k,k,1], pw1 [C,1,1,C], dw2, pw2}, bns {bn1, bn2}
//   DilConv: params {dw [C,k,k,1], pw [C,1,1,C]}, bns {bn}
//   MaxPool / AvgPool: params {}, bns {bn}
//   Skip at stride 2 (FactorizedReduce): params {w1 [C/2,1,1,C], w2 [C/2,1,1,C]}, bns {bn}
//   Skip at stride 1, None, Fallback: nothing
// Preprocessing: ReLU-1x1conv-BN {w [C,1,1,C_in]}, {bn}, or FactorizedReduce as above.
struct CellOpWeights {
  std::vector<Tensor> params;
  std::vector<CellBatchNorm> bns;
};

struct DartsCellWeights {
  CellOpWeights pre0, pre1;
  std::vector<std::vector<CellOpWeights>> edges;  // [edge][op]
};

// Which ops run and how they are weighted.
// - Relaxation: `mixing` [edges, ops] (softmax of the alphas, may require grad), `counts` empty:
//   every op but None runs.
// - One-shot sampling: `mixing` undefined, `counts[e][k]` says how often op k of edge e is summed
//   (0: it costs nothing). A node whose inputs all have count 0 is zero.
// - Both: `mixing` weights the ops whose count is non-zero (a masked relaxation).
// `node_in_output` (empty: all) zeroes the output slice of the nodes left out; they still feed
// later nodes.
struct CellSelection {
  Tensor mixing;
  std::vector<std::vector<int>> counts;
  std::vector<bool> node_in_output;
};

// Computes a Fallback op's output from its input state (the composed module's forward). Called
// with grad mode on when the op records a backward, so the module's own graph carries its
// gradients.
using CellFallback = std::function<Tensor(int edge, int op, const Tensor& state)>;

// s0 [N, H0, W0, C_pp], s1 [N, H, W, C_p] -> [N, H', W', nodes * C]: the concatenated nodes.
// `training` selects batch statistics (and updates the running ones) over running statistics.
// Gradients flow to s0, s1 and the mixing weights through autograd; the weights' gradients are
// accumulated into their .grad as autograd's leaves would be (the weights must be leaves).
Tensor darts_cell(const Tensor& s0, const Tensor& s1, const DartsCellSpec& spec,
                  const DartsCellWeights& weights, const CellSelection& selection, bool training,
                  const CellFallback& fallback = {});

}  // namespace fusenas
