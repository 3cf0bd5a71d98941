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
                 "darts_cell chain forward");
}

void cell_running_stats(const Tensor& like, kc::RunningStatsLaunch& launch) {
  FUSENAS_LAUNCH(kernels::cell_running_stats(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell running statistics");
}

void cell_normalize(const Tensor& like, kc::NormalizeLaunch& launch) {
  FUSENAS_LAUNCH(kernels::cell_normalize(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell normalize");
}

void cell_node_forward(const Tensor& like, kc::NodeLaunch& launch) {
  FUSENAS_LAUNCH(kernels::cell_node_forward(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell node");
}

void cell_node_sums(const Tensor& like, kc::NodeLaunch& launch) {
  const int64_t total = pixels(launch.batch, launch.node);
  launch.tile_pixels = kernels::cell_node_tile_pixels(launch.node.c);
  const int64_t tiles = ceil_div(total, launch.tile_pixels);
  check_tiles(tiles, "a node's gradient sums");
  launch.tiles = static_cast<int32_t>(tiles);
  if (tiles == 0) return;
  Scratch scratch(like, tiles * (launch.count + 1) * launch.node.c, 1);
  launch.partials = scratch.partials;
  launch.counters = scratch.counters;
  FUSENAS_LAUNCH(kernels::cell_node_sums(scalar_type(like.dtype()), launch, stream_for(like)),
                 "darts_cell node sums");
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
                   "darts_cell chain backward");
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
                     "darts_cell gather");
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
