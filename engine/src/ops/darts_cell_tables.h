// Builders for the fused cell's work tables, and runners that split a table too large for one
// launch into several.
#pragma once

#include <vector>

#include "fusenas/engine/darts_cell.h"
#include "fusenas/kernels/darts_cell_plan.h"

namespace fusenas::cell_run {

namespace kc = kernels::cell;

// `elements` elements past the start of t's data.
void* offset_ptr(const Tensor& t, int64_t elements);

// A k x k depthwise stage with DARTS's "same" padding for its dilation.
kc::SpatialStage depthwise(int k, int dilation, int stride, const Tensor& weight);

// act -> spatial -> pointwise conv `pw` [cout, cin, ...] -> out, with statistics into `stats`.
kc::ChainForward conv_chain(const kc::View& in, kc::Act act, const kc::Stats& act_stats,
                            const kc::SpatialStage& spatial, const Tensor& pw, const kc::View& out,
                            const kc::Stats& stats);

// Points a chain's running-statistics update at `bn` (from `channel_offset`), when it has any.
void set_running(kc::ChainForward& chain, const CellBatchNorm& bn, int repeats,
                 int64_t channel_offset = 0);

struct ChainList {
  std::vector<kc::ChainForward> chains;
  std::vector<kc::RunningUpdate> extra;  // `chain` indexes `chains`

  int add(const kc::ChainForward& c) {
    chains.push_back(c);
    return static_cast<int>(chains.size()) - 1;
  }
  void add_running(int chain, int repeats, void* running_mean, void* running_var) {
    extra.push_back({chain, repeats, running_mean, running_var});
  }
};

void run_chain_forward(const Tensor& like, const ChainList& list, int64_t batch, bool training,
                       const DartsCellSpec& spec);
void run_running_stats(const Tensor& like, const std::vector<kc::RunningToStats>& entries,
                       double eps);
void run_node_forward(const Tensor& like, const kc::View& node, const Tensor& mix,
                      const std::vector<kc::Term>& terms, int64_t batch);
// g_sum is written by the first launch only.
void run_node_sums(const Tensor& like, const kc::View& grad, const Tensor& mix,
                   const std::vector<kc::Term>& terms, void* g_sum, const Tensor& alpha_grad,
                   int64_t batch);
}  // namespace fusenas::cell_run
