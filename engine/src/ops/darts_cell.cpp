// darts_cell: argument checks, the op-name table, and the autograd node around one CellRun.
#include "fusenas/engine/darts_cell.h"

#include <algorithm>
#include <memory>

#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "ops/darts_cell_run.h"

namespace fusenas {

CellOpSpec CellOpSpec::from_name(const std::string& name) {
  if (name == "none") return {CellOpKind::None, 0};
  if (name == "max_pool_3x3") return {CellOpKind::MaxPool, 3};
  if (name == "avg_pool_3x3") return {CellOpKind::AvgPool, 3};
  if (name == "skip_connect") return {CellOpKind::Skip, 0};
  if (name == "sep_conv_3x3") return {CellOpKind::SepConv, 3};
  if (name == "sep_conv_5x5") return {CellOpKind::SepConv, 5};
  if (name == "sep_conv_7x7") return {CellOpKind::SepConv, 7};
  if (name == "dil_conv_3x3") return {CellOpKind::DilConv, 3};
  if (name == "dil_conv_5x5") return {CellOpKind::DilConv, 5};
  return {CellOpKind::Fallback, 0};
}

namespace {

void check_shape(const Tensor& t, const Shape& want, const char* what, int edge, int op) {
  FUSENAS_CHECK(t.defined() && t.shape() == want,
                "darts_cell: {} of op {} on edge {} has shape {}, expected {}", what, op, edge,
                t.defined() ? shape_str(t.shape()) : std::string("undefined"), shape_str(want));
}

void check_bns(const CellOpWeights& w, size_t count, int64_t c, int edge, int op) {
  FUSENAS_CHECK(w.bns.size() == count, "darts_cell: op {} on edge {} needs {} batch norms, got {}",
                op, edge, count, w.bns.size());
  for (const CellBatchNorm& b : w.bns) {
    FUSENAS_CHECK(b.running_mean.defined() == b.running_var.defined(),
                  "darts_cell: op {} on edge {}: running mean and variance must be both given", op,
                  edge);
    if (b.running_mean.defined()) {
      check_shape(b.running_mean, {c}, "a running mean", edge, op);
      check_shape(b.running_var, {c}, "a running variance", edge, op);
    }
  }
}

// Checks one op instance's weights against its kind (edge -1, -2: the preprocessing).
void check_op_weights(const CellOpSpec& op, const CellOpWeights& w, int64_t c, int64_t stride,
                      int edge, int k) {
  const int64_t kk = op.kernel;
  switch (op.kind) {
    case CellOpKind::SepConv:
      FUSENAS_CHECK(w.params.size() == 4, "darts_cell: sep conv {} on edge {} needs 4 weights", k,
                    edge);
      check_shape(w.params[0], {c, kk, kk, 1}, "the first depthwise weight", edge, k);
      check_shape(w.params[1], {c, 1, 1, c}, "the first pointwise weight", edge, k);
      check_shape(w.params[2], {c, kk, kk, 1}, "the second depthwise weight", edge, k);
      check_shape(w.params[3], {c, 1, 1, c}, "the second pointwise weight", edge, k);
      check_bns(w, 2, c, edge, k);
      break;
    case CellOpKind::DilConv:
      FUSENAS_CHECK(w.params.size() == 2, "darts_cell: dil conv {} on edge {} needs 2 weights", k,
                    edge);
      check_shape(w.params[0], {c, kk, kk, 1}, "the depthwise weight", edge, k);
      check_shape(w.params[1], {c, 1, 1, c}, "the pointwise weight", edge, k);
      check_bns(w, 1, c, edge, k);
      break;
    case CellOpKind::MaxPool:
    case CellOpKind::AvgPool:
      check_bns(w, 1, c, edge, k);
      break;
    case CellOpKind::Skip:
      if (stride == 2) {
        FUSENAS_CHECK(w.params.size() == 2 && c % 2 == 0,
                      "darts_cell: a strided skip (FactorizedReduce) on edge {} needs 2 weights "
                      "and an even channel count ({})",
                      edge, c);
        check_shape(w.params[0], {c / 2, 1, 1, c}, "the first reduce weight", edge, k);
        check_shape(w.params[1], {c / 2, 1, 1, c}, "the second reduce weight", edge, k);
        check_bns(w, 1, c, edge, k);
      }
      break;
    case CellOpKind::None:
    case CellOpKind::Fallback:
      break;
  }
}

void check_pre(const CellOpWeights& w, int64_t c_in, int64_t c, bool factorized, const char* what) {
  const size_t want = factorized ? 2 : 1;
  FUSENAS_CHECK(w.params.size() == want && w.bns.size() == 1,
                "darts_cell: {} needs {} weight(s) and one batch norm, got {} and {}", what, want,
                w.params.size(), w.bns.size());
  const int64_t part = factorized ? c / 2 : c;
  for (const Tensor& p : w.params) {
    FUSENAS_CHECK(p.defined() && p.shape() == Shape({part, 1, 1, c_in}),
                  "darts_cell: {}'s weight has shape {}, expected [{}, 1, 1, {}]", what,
                  p.defined() ? shape_str(p.shape()) : std::string("undefined"), part, c_in);
  }
  check_bns(w, 1, c, -1, 0);
}

void check_args(const Tensor& s0, const Tensor& s1, const DartsCellSpec& spec,
                const DartsCellWeights& w, const CellSelection& sel) {
  check_defined("darts_cell", s0, "s0");
  check_defined("darts_cell", s1, "s1");
  check_floating("darts_cell", s1);
  check_same_device_dtype("darts_cell", {s0, s1, sel.mixing});
  FUSENAS_CHECK(s0.dim() == 4 && s1.dim() == 4 && s0.size(0) == s1.size(0),
                "darts_cell: expected inputs [N, H, W, C] with one batch, got {} and {}",
                shape_str(s0.shape()), shape_str(s1.shape()));
  const int64_t scale = spec.reduction_prev ? 2 : 1;
  FUSENAS_CHECK(s0.size(1) == scale * s1.size(1) && s0.size(2) == scale * s1.size(2),
                "darts_cell: s0 {} must be {} the size of s1 {}", shape_str(s0.shape()),
                spec.reduction_prev ? "twice" : "the same as", shape_str(s1.shape()));
  FUSENAS_CHECK(spec.nodes >= 1 && spec.channels >= 1 && !spec.ops.empty(),
                "darts_cell: needs nodes, channels and ops (got {} nodes, C={}, {} ops)",
                spec.nodes, spec.channels, spec.ops.size());
  const int64_t c = spec.channels;
  FUSENAS_CHECK(!spec.reduction_prev || c % 2 == 0,
                "darts_cell: FactorizedReduce needs an even channel count, got {}", c);
  FUSENAS_CHECK(!spec.reduction || (s1.size(1) % 2 == 0 && s1.size(2) % 2 == 0),
                "darts_cell: a reduction cell needs an even input size, got {}",
                shape_str(s1.shape()));
  FUSENAS_CHECK(!spec.reduction_prev || (s0.size(1) % 2 == 0 && s0.size(2) % 2 == 0),
                "darts_cell: FactorizedReduce needs an even input size, got {}",
                shape_str(s0.shape()));
  check_pre(w.pre0, s0.size(3), c, spec.reduction_prev, "preprocess0");
  check_pre(w.pre1, s1.size(3), c, false, "preprocess1");
  const int edges = spec.num_edges(), k_ops = static_cast<int>(spec.ops.size());
  FUSENAS_CHECK(static_cast<int>(w.edges.size()) == edges,
                "darts_cell: {} edges of weights for a cell of {} edges", w.edges.size(), edges);
  FUSENAS_CHECK(sel.mixing.defined() || !sel.counts.empty(),
                "darts_cell: give mixing weights, counts of sampled ops, or both");
  if (sel.mixing.defined()) {
    FUSENAS_CHECK(sel.mixing.shape() == Shape({edges, k_ops}),
                  "darts_cell: mixing weights have shape {}, expected [{}, {}]",
                  shape_str(sel.mixing.shape()), edges, k_ops);
  }
  FUSENAS_CHECK(sel.counts.empty() || static_cast<int>(sel.counts.size()) == edges,
                "darts_cell: counts for {} edges, the cell has {}", sel.counts.size(), edges);
  FUSENAS_CHECK(
      sel.node_in_output.empty() || static_cast<int>(sel.node_in_output.size()) == spec.nodes,
      "darts_cell: node_in_output has {} entries for {} nodes", sel.node_in_output.size(),
      spec.nodes);
  for (int node = 0; node < spec.nodes; ++node) {
    for (int input = 0; input < node + 2; ++input) {
      const int e = DartsCellSpec::edge_index(node, input);
      FUSENAS_CHECK(static_cast<int>(w.edges[e].size()) == k_ops,
                    "darts_cell: edge {} has weights for {} ops, the cell has {}", e,
                    w.edges[e].size(), k_ops);
      if (!sel.counts.empty()) {
        FUSENAS_CHECK(static_cast<int>(sel.counts[e].size()) == k_ops,
                      "darts_cell: counts of edge {} cover {} ops, the cell has {}", e,
                      sel.counts[e].size(), k_ops);
      }
      const int64_t stride = spec.reduction && input < 2 ? 2 : 1;
      for (int k = 0; k < k_ops; ++k) {
        if (!sel.counts.empty()) {
          FUSENAS_CHECK(sel.counts[e][k] >= 0, "darts_cell: negative count for op {} of edge {}", k,
                        e);
          if (sel.counts[e][k] == 0) continue;
        }
        check_op_weights(spec.ops[k], w.edges[e][k], c, stride, e, k);
      }
    }
  }
}

}  // namespace

constexpr int64_t kEvaluationSlice = 32;

Tensor darts_cell(const Tensor& s0, const Tensor& s1, const DartsCellSpec& spec,
                  const DartsCellWeights& weights, const CellSelection& selection, bool training,
                  const CellFallback& fallback) {
  check_args(s0, s1, spec, weights, selection);
  auto run = std::make_shared<cell_run::CellRun>(spec, weights, selection, training, fallback);
  const bool weight_grads = grad_enabled() && run->weights_require_grad();
  const bool record =
      grad_enabled() &&
      (s0.requires_grad() || s1.requires_grad() ||
       (selection.mixing.defined() && selection.mixing.requires_grad()) || weight_grads);
  // The op holds every edge's output of the cell at once. In evaluation without a graph samples
  // are independent (batch norm uses running statistics), so a large batch (a search's
  // evaluation batches) runs in slices and memory stays that of a training batch.
  const int64_t batch = s0.size(0);
  if (!record && !training && batch > kEvaluationSlice) {
    std::vector<Tensor> parts;
    for (int64_t first = 0; first < batch; first += kEvaluationSlice) {
      const int64_t n = std::min(kEvaluationSlice, batch - first);
      cell_run::CellRun slice(spec, weights, selection, training, fallback);
      parts.push_back(slice.forward(s0.narrow(0, first, n), s1.narrow(0, first, n), false));
    }
    return concat(parts, 0);
  }
  Tensor out = run->forward(s0, s1, record);
  if (record) {
    fusenas::record(
        "darts_cell", {s0, s1, selection.mixing}, {out},
        [run, weight_grads](const BackwardContext& ctx) {
          return run->backward(ctx.grad(), ctx.needs(0), ctx.needs(1), ctx.needs(2), weight_grads);
        },
        /*always=*/true);
  }
  return out;
}

}  // namespace fusenas
