// Work-table builders and the runners that chunk tables into launches for the fused cell.
#include "ops/darts_cell_tables.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "ops/darts_cell_backend.h"

namespace fusenas::cell_run {

void* offset_ptr(const Tensor& t, int64_t elements) {
  return static_cast<char*>(t.raw_data()) + elements * dtype_size(t.dtype());
}

kc::SpatialStage depthwise(int k, int dilation, int stride, const Tensor& weight) {
  kc::SpatialStage s;
  s.kind = kc::Spatial::Depthwise;
  s.k = k;
  s.dilation = dilation;
  s.stride = stride;
  s.pad = dilation * (k - 1) / 2;
  s.weight = weight.raw_data();
  return s;
}

kc::ChainForward conv_chain(const kc::View& in, kc::Act act, const kc::Stats& act_stats,
                            const kc::SpatialStage& spatial, const Tensor& pw, const kc::View& out,
                            const kc::Stats& stats) {
  kc::ChainForward ch;
  ch.in = in;
  ch.act = act;
  ch.act_stats = act_stats;
  ch.spatial = spatial;
  ch.pw = pw.raw_data();
  ch.cout = out.c;
  ch.out = out;
  ch.stats = stats;
  return ch;
}

void set_running(kc::ChainForward& chain, const CellBatchNorm& bn, int repeats,
                 int64_t channel_offset) {
  if (!bn.running_mean.defined()) return;
  chain.repeats = repeats;
  chain.running_mean = offset_ptr(bn.running_mean, channel_offset);
  chain.running_var = offset_ptr(bn.running_var, channel_offset);
}

void run_chain_forward(const Tensor& like, const ChainList& list, int64_t batch, bool training,
                       const DartsCellSpec& spec) {
  for (size_t first = 0; first < list.chains.size(); first += kc::kMaxChains) {
    kc::ChainForwardLaunch launch;
    launch.batch = static_cast<int32_t>(batch);
    launch.compute_stats = training ? 1 : 0;
    launch.momentum = spec.bn_momentum;
    launch.eps = spec.bn_eps;
    const size_t last = std::min(list.chains.size(), first + kc::kMaxChains);
    launch.count = static_cast<int32_t>(last - first);
    std::copy(list.chains.begin() + first, list.chains.begin() + last, launch.chain);
    for (const kc::RunningUpdate& u : list.extra) {
      if (u.chain < static_cast<int>(first) || u.chain >= static_cast<int>(last)) continue;
      FUSENAS_CHECK(launch.extra_count < kc::kMaxChains,
                    "internal: darts_cell: too many shared "
                    "pool statistics in one launch");
      kc::RunningUpdate local = u;
      local.chain -= static_cast<int32_t>(first);
      launch.extra[launch.extra_count++] = local;
    }
    cell_backend::chain_forward(like, launch);
  }
}

void run_running_stats(const Tensor& like, const std::vector<kc::RunningToStats>& entries,
                       double eps) {
  for (size_t first = 0; first < entries.size(); first += kc::kMaxRunning) {
    kc::RunningStatsLaunch launch;
    launch.eps = eps;
    const size_t last = std::min(entries.size(), first + kc::kMaxRunning);
    launch.count = static_cast<int32_t>(last - first);
    std::copy(entries.begin() + first, entries.begin() + last, launch.entry);
    cell_backend::running_stats(like, launch);
  }
}

namespace {

// Node launches of at most kMaxTerms terms each (at least one launch); `fill` completes each.
template <typename Fill>
void for_term_chunks(const kc::View& node, const Tensor& mix, const std::vector<kc::Term>& terms,
                     int64_t batch, Fill&& fill) {
  size_t first = 0;
  do {
    kc::NodeLaunch launch;
    launch.batch = static_cast<int32_t>(batch);
    launch.node = node;
    launch.mix = mix.defined() ? mix.raw_data() : nullptr;
    const size_t last = std::min(terms.size(), first + kc::kMaxTerms);
    launch.count = static_cast<int32_t>(last - first);
    std::copy(terms.begin() + first, terms.begin() + last, launch.term);
    fill(launch, first == 0);
    first = last;
  } while (first < terms.size());
}

}  // namespace

void run_node_forward(const Tensor& like, const kc::View& node, const Tensor& mix,
                      const std::vector<kc::Term>& terms, int64_t batch) {
  for_term_chunks(node, mix, terms, batch, [&](kc::NodeLaunch& launch, bool first) {
    launch.accumulate = first ? 0 : 1;
    cell_backend::node_forward(like, launch);
  });
}

void run_node_sums(const Tensor& like, const kc::View& grad, const Tensor& mix,
                   const std::vector<kc::Term>& terms, void* g_sum, const Tensor& alpha_grad,
                   int64_t batch) {
  for_term_chunks(grad, mix, terms, batch, [&](kc::NodeLaunch& launch, bool first) {
    launch.g_sum = first ? g_sum : nullptr;
    launch.alpha_grad = alpha_grad.defined() ? alpha_grad.raw_data() : nullptr;
    cell_backend::node_sums(like, launch);
  });
}

}  // namespace fusenas::cell_run
