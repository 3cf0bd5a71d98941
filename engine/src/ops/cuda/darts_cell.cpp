// CUDA launchers of the fused DARTS cell: tile each work table over blocks, give it reduction
// scratch (per-block partials and per-problem counters) and launch it on the tensor's stream.
#include "ops/cuda/darts_cell.h"

#include <algorithm>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/engine/error.h"
#include "fusenas/kernels/darts_cell.h"

namespace fusenas::cuda {

namespace kc = kernels::cell;

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

int64_t pixels(int64_t batch, const kc::View& v) {
  return batch * v.h * v.w;
}

// One allocation holds a launch's partials (doubles) and then its counters, which start at zero
// (the kernels leave them at zero too, but a fresh buffer may hold anything).
struct Scratch {
  Tensor buffer;
  double* partials = nullptr;
  unsigned* counters = nullptr;

  Scratch(const Tensor& like, int64_t partial_count, int64_t counter_count) {
    const int64_t counter_doubles = ceil_div(counter_count, 2);
    buffer = Tensor::empty({std::max<int64_t>(partial_count + counter_doubles, 1)},
                           like.options().with_dtype(DType::Float64));
    partials = buffer.data<double>();
    counters = reinterpret_cast<unsigned*>(partials + partial_count);
    if (counter_count > 0) {
      FUSENAS_CUDA_CHECK(
          cudaMemsetAsync(counters, 0, sizeof(unsigned) * counter_count, stream_for(like)));
    }
  }
};

// Blocks of one launch are counted in 32 bits and a table's tiles in its own fields.
void check_tiles(int64_t tiles, const char* what) {
  FUSENAS_CHECK(tiles < (int64_t{1} << 31), "darts_cell: {} needs {} blocks, more than CUDA allows",
                what, tiles);
}

// A tile must hold at least one pixel of every channel it keeps in shared memory.
void check_channels(kernels::ScalarType type, int64_t per_pixel, const char* what) {
  const int64_t capacity = kernels::cell_tile_elements(type);
  FUSENAS_CHECK(per_pixel <= capacity,
                "darts_cell: {} keeps {} values per pixel in shared memory, at most {} fit on "
                "CUDA; use fewer channels or the composed cell",
                what, per_pixel, capacity);
}

// ---- Launch costs, estimated from the work tables ----
// Counted in elements of the launch's scalar type, then scaled: each table entry's operands read
// or written once (a chain's input counts once per chain even where chains share it, as each
// chain's blocks load their own tiles), the per-block partials written and read back (the
// counters' memset is not a kernel of the engine's and is left out), and per element the
// activation (ReLU 1, BN + ReLU 3 FLOPs), the spatial stage (depthwise 2 k^2, pool 9,
// subsample 0), the 1x1 conv (2 cin per output channel) and the BN sums (3 per output).

int64_t elements(int64_t batch, const kc::View& v) {
  return pixels(batch, v) * v.c;
}

int64_t act_flops(kc::Act act) {
  return act == kc::Act::BnRelu ? 3 : act == kc::Act::Relu ? 1 : 0;
}

int64_t spatial_flops(const kc::SpatialStage& s) {
  switch (s.kind) {
    case kc::Spatial::Depthwise:
      return 2 * int64_t{s.k} * s.k;
    case kc::Spatial::Subsample:
      return 0;
    case kc::Spatial::MaxPool:
    case kc::Spatial::AvgPool:
      return 9;
  }
  return 0;
}

// The input a chain's spatial stage reads: a subsample reads only the pixels it keeps.
int64_t chain_input(int64_t batch, const kc::View& in, const kc::View& out,
                    const kc::SpatialStage& s) {
  return s.kind == kc::Spatial::Subsample ? pixels(batch, out) * in.c : elements(batch, in);
}

int64_t depthwise_weights(const kc::SpatialStage& s, int64_t c) {
  return s.kind == kc::Spatial::Depthwise ? int64_t{s.k} * s.k * c : 0;
}

// Element counts and FLOPs, before the element size is applied.
LaunchCost in_bytes(LaunchCost elements_and_flops, int64_t element, int64_t partial_doubles) {
  return {elements_and_flops.bytes * element + 2 * partial_doubles * 8, elements_and_flops.flops};
}

LaunchCost chain_forward_cost(const kc::ChainForwardLaunch& launch, int64_t element,
                              int64_t partials) {
  LaunchCost c;
  for (int p = 0; p < launch.count; ++p) {
    const kc::ChainForward& ch = launch.chain[p];
    const int64_t in = chain_input(launch.batch, ch.in, ch.out, ch.spatial);
    const int64_t spatial_out = pixels(launch.batch, ch.out) * ch.in.c;
    const int64_t out = elements(launch.batch, ch.out);
    c.bytes += in + (ch.act == kc::Act::BnRelu ? 2 * ch.in.c : 0) +
               depthwise_weights(ch.spatial, ch.in.c) + (ch.pw != nullptr ? ch.cout * ch.in.c : 0) +
               out + (ch.keep.data != nullptr ? spatial_out : 0) +
               (launch.compute_stats ? 2 * ch.out.c : 0) +
               (ch.running_mean != nullptr ? 4 * ch.out.c : 0);
    c.flops += in * act_flops(ch.act) + spatial_out * spatial_flops(ch.spatial) +
               (ch.pw != nullptr ? 2 * out * ch.in.c : 0) + (launch.compute_stats ? 3 * out : 0);
  }
  return in_bytes(c, element, partials);
}

LaunchCost node_forward_cost(const kc::NodeLaunch& launch, int64_t element) {
  const int64_t node = elements(launch.batch, launch.node);
  LaunchCost c(node * (launch.accumulate ? 2 : 1), 0);
  for (int t = 0; t < launch.count; ++t) {
    const bool bn = launch.term[t].stats.mean != nullptr;
    c += LaunchCost(node + (bn ? 2 * launch.node.c : 0), (bn ? 4 : 2) * node);
  }
  return in_bytes(c, element, 0);
}

// The node gradient read; per term its source read, its BN's xhat (2), g * xhat (2) and the
// mixing-weight product (2) per element, and its per-channel sum written.
LaunchCost node_sums_cost(const kc::NodeLaunch& launch, int64_t element, int64_t partials) {
  const int64_t node = elements(launch.batch, launch.node);
  LaunchCost c(node + 2 * launch.node.c, node);
  for (int t = 0; t < launch.count; ++t) {
    const bool bn = launch.term[t].stats.mean != nullptr;
    c += LaunchCost(node + (bn ? 3 * launch.node.c : 0), (bn ? 6 : 2) * node);
  }
  return in_bytes(c, element, partials);
}

// Per chain: its input (or the kept spatial output), the incoming gradient and the chain output
// for its BN backward (5 FLOPs per output), gd written, the weights read and their gradients
// written; gd = gp pw and pw_grad = gp^T d each 2 cin per output, the depthwise recompute and
// weight gradient 2 k^2 per spatial output.
LaunchCost chain_backward_cost(const kc::ChainBackwardLaunch& launch, int64_t element,
                               int64_t partials) {
  LaunchCost c;
  for (int p = 0; p < launch.count; ++p) {
    const kc::ChainBackward& ch = launch.chain[p];
    const int64_t spatial_out = pixels(launch.batch, ch.out) * ch.in.c;
    const int64_t out = pixels(launch.batch, ch.out) * ch.cout;
    const bool kept = ch.d.data != nullptr;
    const int64_t in = kept ? spatial_out : chain_input(launch.batch, ch.in, ch.out, ch.spatial);
    const int64_t dw = depthwise_weights(ch.spatial, ch.in.c);
    const int64_t pw = ch.pw != nullptr ? int64_t{ch.cout} * ch.in.c : 0;
    const int64_t grads = (ch.pw_grad != nullptr ? pw : 0) + (ch.dw_grad != nullptr ? dw : 0);
    c.bytes += in + (ch.act == kc::Act::BnRelu && !kept ? 2 * ch.in.c : 0) + 2 * out + 4 * ch.cout +
               spatial_out + dw + pw + (launch.accumulate_grads ? 2 : 1) * grads;
    c.flops += (kept ? 0 : in * act_flops(ch.act) + spatial_out * spatial_flops(ch.spatial)) +
               5 * out + (ch.pw != nullptr ? 2 * out * ch.in.c : 0) +
               (ch.pw_grad != nullptr ? 2 * out * ch.in.c : 0) +
               (ch.dw_grad != nullptr ? spatial_out * spatial_flops(ch.spatial) : 0);
  }
  return in_bytes(c, element, partials);
}

// Per target: its gradient written, its input read for the activation mask (and the sums' xhat),
// the base read; each chain's gd through the transposed spatial stage, each identity's g (a
// multiply-add), each pool's kept output and per edge its g through the pool BN backward (6 FLOPs
// per pooled element) and the window scatter (9); the BN sums 4 FLOPs per element.
LaunchCost gather_cost(const kc::GatherLaunch& launch, int64_t element, int64_t partials) {
  LaunchCost c;
  for (int t = 0; t < launch.count; ++t) {
    const kc::GatherTarget& tg = launch.target[t];
    const int64_t n = elements(launch.batch, tg.in);
    const bool sums = tg.g_sum != nullptr;
    c += LaunchCost(2 * n + (tg.base.data != nullptr ? n : 0) +
                        (tg.act == kc::Act::BnRelu ? 2 * tg.in.c : 0) + (sums ? 2 * tg.in.c : 0),
                    n * (1 + act_flops(tg.act)) + (sums ? 4 * n : 0));
    for (int i = tg.first_chain; i < tg.first_chain + tg.chains; ++i) {
      const kc::GatherChain& ch = launch.chain[i];
      const int64_t gd = elements(launch.batch, ch.gd);
      c += LaunchCost(gd + depthwise_weights(ch.spatial, ch.gd.c),
                      std::max<int64_t>(gd * spatial_flops(ch.spatial), gd));
    }
    c += LaunchCost(int64_t{tg.identities} * n, int64_t{tg.identities} * 2 * n);
    for (int i = tg.first_pool; i < tg.first_pool + tg.pools; ++i) {
      const kc::GatherPool& pool = launch.pool[i];
      const int64_t pooled = elements(launch.batch, pool.pooled);
      c += LaunchCost(pooled * (1 + pool.edges) + int64_t{pool.edges} * 4 * pool.pooled.c,
                      pooled * (9 + 6 * int64_t{pool.edges}));
    }
  }
  return in_bytes(c, element, partials);
}

}  // namespace

void cell_chain_forward(const Tensor& like, kc::ChainForwardLaunch& launch) {
  const kernels::ScalarType type = scalar_type(like.dtype());
  int64_t tiles = 0, partials = 0;
  for (int p = 0; p < launch.count; ++p) {
    kc::ChainForward& ch = launch.chain[p];
    check_channels(type, ch.in.c, "a chain");
    ch.tile_pixels = kernels::cell_chain_tile_pixels(type, ch.in.c, ch.cout);
    const int64_t t = ceil_div(pixels(launch.batch, ch.out), ch.tile_pixels);
    ch.tiles = static_cast<int32_t>(t);
    ch.first_tile = static_cast<int32_t>(tiles);
    ch.partial_offset = partials;
    tiles += t;
    if (launch.compute_stats) partials += t * 2 * ch.cout;
  }
  check_tiles(tiles, "a chain pass");
  launch.total_tiles = static_cast<int32_t>(tiles);
  if (tiles == 0) return;
  Scratch scratch(like, partials, launch.compute_stats ? launch.count : 0);
  launch.partials = scratch.partials;
  launch.counters = scratch.counters;
  FUSENAS_LAUNCH(kernels::cell_chain_forward(type, launch, stream_for(like)),
                 "darts_cell chain forward",
                 chain_forward_cost(launch, dtype_size(like.dtype()), partials));
}

void cell_running_stats(const Tensor& like, kc::RunningStatsLaunch& launch) {
  // Per entry: running mean and variance read, mean and invstd written; a few FLOPs each.
  int64_t channels = 0;
  for (int i = 0; i < launch.count; ++i) channels += launch.entry[i].c;
  FUSENAS_LAUNCH(
      kernels::cell_running_stats(scalar_type(like.dtype()), launch, stream_for(like)),
      "darts_cell running statistics",
      LaunchCost(4 * channels * static_cast<int64_t>(dtype_size(like.dtype())), 3 * channels));
}

void cell_normalize(const Tensor& like, kc::NormalizeLaunch& launch) {
  // Each input read and written in place, (x - mean) * invstd per element.
  int64_t values = 0, channels = 0;
  for (int i = 0; i < launch.count; ++i) {
    values += elements(launch.batch, launch.x[i]);
    channels += launch.x[i].c;
  }
  FUSENAS_LAUNCH(
      kernels::cell_normalize(scalar_type(like.dtype()), launch, stream_for(like)),
      "darts_cell normalize",
      LaunchCost((2 * values + 2 * channels) * static_cast<int64_t>(dtype_size(like.dtype())),
                 2 * values));
}

void cell_node_forward(const Tensor& like, kc::NodeLaunch& launch) {
  FUSENAS_LAUNCH(kernels::cell_node_forward(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell node", node_forward_cost(launch, dtype_size(like.dtype())));
}

void cell_node_sums(const Tensor& like, kc::NodeLaunch& launch) {
  const int64_t total = pixels(launch.batch, launch.node);
  launch.tile_pixels = kernels::cell_node_tile_pixels(launch.node.c);
  const int64_t tiles = ceil_div(total, launch.tile_pixels);
  check_tiles(tiles, "a node's gradient sums");
  launch.tiles = static_cast<int32_t>(tiles);
  if (tiles == 0) return;
  const int64_t partials = tiles * (launch.count + 1) * launch.node.c;
  Scratch scratch(like, partials, 1);
  launch.partials = scratch.partials;
  launch.counters = scratch.counters;
  FUSENAS_LAUNCH(kernels::cell_node_sums(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell node sums",
                 node_sums_cost(launch, dtype_size(like.dtype()), partials));
}

namespace {

// The chains' half of a backward stage: each chain's gd gets a slice of `workspace`.
void launch_chain_backward(const Tensor& like, cell_run::BackwardStage& stage,
                           const Tensor& workspace) {
  const kernels::ScalarType type = scalar_type(like.dtype());
  const int64_t element = dtype_size(like.dtype());
  int64_t offset = 0;
  for (kc::ChainBackward& ch : stage.chains) {
    ch.gd = kc::View{static_cast<char*>(workspace.raw_data()) + offset * element, ch.out.h,
                     ch.out.w, ch.in.c, ch.in.c};
    offset += pixels(stage.batch, ch.out) * ch.in.c;
  }
  for (size_t first = 0; first < stage.chains.size(); first += kc::kMaxChains) {
    kc::ChainBackwardLaunch launch;
    launch.batch = static_cast<int32_t>(stage.batch);
    launch.training = stage.training ? 1 : 0;
    launch.mix = stage.mix;
    const size_t last = std::min(stage.chains.size(), first + kc::kMaxChains);
    launch.count = static_cast<int32_t>(last - first);
    int64_t tiles = 0, partials = 0;
    for (int p = 0; p < launch.count; ++p) {
      kc::ChainBackward ch = stage.chains[first + p];
      check_channels(type, 2 * int64_t{ch.in.c} + ch.cout, "a chain's backward");
      ch.tile_pixels = kernels::cell_chain_backward_tile_pixels(type, ch.in.c, ch.cout);
      const int64_t t = ceil_div(pixels(stage.batch, ch.out), ch.tile_pixels);
      ch.tiles = static_cast<int32_t>(t);
      ch.first_tile = static_cast<int32_t>(tiles);
      ch.partial_offset = partials;
      const bool dw = ch.dw_grad != nullptr && ch.spatial.kind == kc::Spatial::Depthwise;
      const int64_t width = (ch.pw_grad != nullptr ? int64_t{ch.cout} * ch.in.c : 0) +
                            (dw ? int64_t{ch.spatial.k} * ch.spatial.k * ch.in.c : 0);
      tiles += t;
      partials += t * width;
      launch.chain[p] = ch;
    }
    check_tiles(tiles, "a chain backward pass");
    launch.total_tiles = static_cast<int32_t>(tiles);
    if (tiles == 0) continue;
    Scratch scratch(like, partials, launch.count);
    launch.partials = scratch.partials;
    launch.counters = scratch.counters;
    FUSENAS_LAUNCH(kernels::cell_chain_backward(type, launch, stream_for(like)),
                   "darts_cell chain backward", chain_backward_cost(launch, element, partials));
  }
}

// Gathers a launch's worth of targets at a time; a target's contributions never split.
class GatherBatcher {
 public:
  GatherBatcher(const Tensor& like, const cell_run::BackwardStage& stage)
      : like_(like), stage_(stage) {
    reset();
  }

  void add(const cell_run::GatherList::Target& t) {
    const int pool_edges = count_pool_edges(t);
    FUSENAS_CHECK(static_cast<int>(t.chains.size()) <= kc::kMaxChains &&
                      static_cast<int>(t.identities.size()) <= kc::kMaxChains &&
                      static_cast<int>(t.pools.size()) <= kc::kMaxTargets &&
                      pool_edges <= kc::kMaxPoolEdges,
                  "internal: darts_cell: one gather target has more paths than a launch holds");
    if (launch_.count == kc::kMaxTargets ||
        chains_ + static_cast<int>(t.chains.size()) > kc::kMaxChains ||
        identities_ + static_cast<int>(t.identities.size()) > kc::kMaxChains ||
        pools_ + static_cast<int>(t.pools.size()) > kc::kMaxTargets ||
        pool_edges_ + pool_edges > kc::kMaxPoolEdges) {
      flush();
    }
    kc::GatherTarget tg = t.target;
    tg.first_chain = chains_;
    tg.chains = static_cast<int32_t>(t.chains.size());
    for (kc::GatherChain c : t.chains) {
      c.gd = stage_.chains[c.source].gd;
      launch_.chain[chains_++] = c;
    }
    tg.first_identity = identities_;
    tg.identities = static_cast<int32_t>(t.identities.size());
    for (const kc::GatherIdentity& id : t.identities) launch_.identity[identities_++] = id;
    tg.first_pool = pools_;
    tg.pools = static_cast<int32_t>(t.pools.size());
    for (const auto& [pool, edges] : t.pools) {
      kc::GatherPool p = pool;
      p.first_edge = pool_edges_;
      p.edges = static_cast<int32_t>(edges.size());
      for (const kc::GatherPoolEdge& e : edges) launch_.pool_edge[pool_edges_++] = e;
      launch_.pool[pools_++] = p;
    }
    const int64_t c = tg.in.c;
    tg.tile_pixels = kernels::cell_gather_tile_pixels(static_cast<int>(c));
    const int64_t tiles = ceil_div(pixels(stage_.batch, tg.in), tg.tile_pixels);
    tg.tiles = static_cast<int32_t>(tiles);
    tg.first_tile = static_cast<int32_t>(tiles_);
    tg.partial_offset = partials_;
    tiles_ += tiles;
    if (tg.g_sum != nullptr) partials_ += tiles * 2 * c;
    launch_.target[launch_.count++] = tg;
  }

  void flush() {
    if (launch_.count > 0 && tiles_ > 0) {
      check_tiles(tiles_, "a gather pass");
      launch_.total_tiles = static_cast<int32_t>(tiles_);
      Scratch scratch(like_, partials_, launch_.count);
      launch_.partials = scratch.partials;
      launch_.counters = scratch.counters;
      FUSENAS_LAUNCH(kernels::cell_gather(scalar_type(like_.dtype()), launch_, stream_for(like_)),
                     "darts_cell gather",
                     gather_cost(launch_, dtype_size(like_.dtype()), partials_));
    }
    reset();
  }

 private:
  static int count_pool_edges(const cell_run::GatherList::Target& t) {
    int n = 0;
    for (const auto& pool : t.pools) n += static_cast<int>(pool.second.size());
    return n;
  }

  void reset() {
    launch_ = kc::GatherLaunch{};
    launch_.batch = static_cast<int32_t>(stage_.batch);
    launch_.training = stage_.training ? 1 : 0;
    launch_.mix = stage_.mix;
    chains_ = identities_ = pools_ = pool_edges_ = 0;
    tiles_ = partials_ = 0;
  }

  const Tensor& like_;
  const cell_run::BackwardStage& stage_;
  kc::GatherLaunch launch_;
  int chains_ = 0, identities_ = 0, pools_ = 0, pool_edges_ = 0;
  int64_t tiles_ = 0, partials_ = 0;
};

}  // namespace

void cell_backward_stage(const Tensor& like, cell_run::BackwardStage& stage) {
  int64_t gd_elements = 0;
  for (const kc::ChainBackward& ch : stage.chains)
    gd_elements += pixels(stage.batch, ch.out) * ch.in.c;
  const Tensor workspace = Tensor::empty({std::max<int64_t>(gd_elements, 1)}, like.options());
  launch_chain_backward(like, stage, workspace);
  GatherBatcher batcher(like, stage);
  for (const cell_run::GatherList::Target& t : stage.gather.targets) batcher.add(t);
  batcher.flush();
}

}  // namespace fusenas::cuda
