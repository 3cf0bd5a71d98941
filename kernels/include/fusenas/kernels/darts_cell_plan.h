// The fused DARTS cell's work tables: plain structs (no CUDA types) that describe each pass of the
// cell over NHWC activations. The engine builds them once per call; the CPU kernels and the CUDA
// kernels both execute them, so both backends run the same plan.
#pragma once

#include <cstdint>

namespace fusenas::kernels::cell {

// Problems and terms per launch table. A kernel parameter block holds the whole table (CUDA 12.1+
// allows 32 KiB of parameters), so a captured graph keeps it; larger plans take several launches.
constexpr int kMaxChains = 48;
constexpr int kMaxTerms = 48;
constexpr int kMaxTargets = 24;
constexpr int kMaxPoolEdges = 48;
constexpr int kMaxRunning = 96;

// An NHWC activation of the launch's batch: element (n, y, x, c) lives at
// data[((n * h + y) * w + x) * row + c]. `row` exceeds `c` for a channel slice of a wider tensor
// (a node inside the cell's concatenated output).
struct View {
  void* data = nullptr;
  int32_t h = 0, w = 0, c = 0, row = 0;
};

// Per-channel batch-norm statistics of one BN instance: arrays of `c` elements of the kernel's
// scalar type, mean and 1 / sqrt(var + eps).
struct Stats {
  void* mean = nullptr;
  void* invstd = nullptr;
};

// A mixing weight: mix[index] of the launch's weight matrix, or `fixed` when index < 0 (one-shot
// sampling, where a chosen op counts with weight 1).
struct MixRef {
  int32_t index = -1;
  double fixed = 1;
};

// What a chain applies to its input before the spatial stage.
enum class Act : int32_t { None, Relu, BnRelu };  // BnRelu: relu((x - mean) * invstd)

enum class Spatial : int32_t {
  Depthwise,  // k x k depthwise convolution (dilation, stride, zero padding)
  Subsample,  // x[:, offset::stride, offset::stride, :] (a strided 1x1 convolution's input)
  MaxPool,    // 3x3 max, padding 1, padded taps skipped
  AvgPool,    // 3x3 average over the taps inside the image (count_include_pad = false)
};

struct SpatialStage {
  Spatial kind = Spatial::Subsample;
  int32_t k = 1, dilation = 1, stride = 1, pad = 0, offset = 0;
  const void* weight = nullptr;  // depthwise: [c, k, k]
};

// ---- Forward ----

// act -> spatial -> optional pointwise (1x1) convolution -> raw output, plus batch-norm
// statistics of that output. A pool chain has no pointwise stage: the pooled map is its output.
struct ChainForward {
  View in;
  Act act = Act::None;
  Stats act_stats;
  SpatialStage spatial;
  const void* pw = nullptr;  // [cout, in.c]; null: the spatial output is the chain output
  int32_t cout = 0;
  View out;
  View keep;  // when set, also keeps the spatial output here (the backward then reads it back)
  Stats stats;
  void* running_mean = nullptr;  // updated when the launch computes statistics (may be null)
  void* running_var = nullptr;
  int32_t repeats = 1;  // the update is applied this often (an op sampled twice on one edge)
  int32_t tile_pixels = 0, tiles = 0, first_tile = 0;  // CUDA block mapping
  int64_t partial_offset = 0;                          // doubles into the launch's partials
};

// Edges whose pools share one statistics pass (the same state, pool and stride) still own their
// running statistics: `chain`'s batch statistics update these too.
struct RunningUpdate {
  int32_t chain = 0;
  int32_t repeats = 1;
  void* running_mean = nullptr;
  void* running_var = nullptr;
};

struct ChainForwardLaunch {
  int32_t batch = 0;
  int32_t count = 0;
  int32_t total_tiles = 0;
  int32_t compute_stats = 0;  // training: batch statistics (else `stats` holds running values)
  double momentum = 0.1;
  double eps = 1e-5;
  double* partials = nullptr;
  unsigned* counters = nullptr;  // one per chain, zero on entry and on exit
  int32_t extra_count = 0;
  ChainForward chain[kMaxChains];
  RunningUpdate extra[kMaxChains];
};

// Evaluation mode: statistics from running ones, mean = running_mean and
// invstd = 1 / sqrt(running_var + eps).
struct RunningToStats {
  const void* running_mean = nullptr;
  const void* running_var = nullptr;
  Stats stats;
  int32_t c = 0;
};
struct RunningStatsLaunch {
  int32_t count = 0;
  double eps = 1e-5;
  RunningToStats entry[kMaxRunning];
};

// x = (x - mean) * invstd in place, for the preprocessed cell inputs.
struct NormalizeLaunch {
  int32_t batch = 0;
  int32_t count = 0;
  View x[2];
  Stats stats[2];
};

// A weighted term of a node: mix * bn(src), where bn is the batch norm given by `stats` (none when
// null) and src is a state, a chain's raw output or a state's pooled map.
struct Term {
  View src;
  Stats stats;
  MixRef weight;
  void* gx_sum = nullptr;    // backward: sum over pixels of g * y, per channel (T)
  int32_t alpha_index = -1;  // backward: entry of the mixing-weight gradient (-1: none)
};

// Forward: node = (accumulate ? node : 0) + sum of terms. Backward sums: over the node gradient g,
// g_sum = sum g and each term's gx_sum = sum g * y_t per channel, and the mixing-weight gradient
// of each term, sum over everything of g * y_t.
struct NodeLaunch {
  int32_t batch = 0;
  View node;  // forward: the output; backward: the node's gradient
  const void* mix = nullptr;
  int32_t accumulate = 0;
  int32_t count = 0;
  Term term[kMaxTerms];
  // backward only
  void* g_sum = nullptr;  // null: not computed by this launch
  void* alpha_grad = nullptr;
  int32_t tile_pixels = 0, tiles = 0;
  double* partials = nullptr;
  unsigned* counters = nullptr;
};

// ---- Backward ----

// The weight-side backward of a chain: recompute the spatial output d, take the incoming gradient
// through the chain's batch norm (gp), then gd = gp * pw (the gradient at the spatial output),
// the pointwise weights' gradient gp^T d and the depthwise weights' gradient.
struct ChainBackward {
  View in;
  Act act = Act::None;
  Stats act_stats;
  SpatialStage spatial;
  const void* pw = nullptr;
  int32_t cout = 0;
  View d;    // the spatial output kept by the forward (null: recompute it)
  View out;  // the chain's output: raw, or already normalised (`out_normalized`)
  int32_t out_normalized = 0;
  Stats stats;                   // its batch norm
  View g;                        // the gradient at the batch norm's output (cout channels)
  MixRef scale;                  // g is multiplied by this
  const void* g_sum = nullptr;   // sum g over pixels (unscaled), per channel
  const void* gx_sum = nullptr;  // sum g * xhat over pixels (unscaled), per channel
  View gd;                       // out: gradient at the spatial output (in.c channels)
  void* pw_grad = nullptr;       // [cout, in.c]; null: not needed
  void* dw_grad = nullptr;       // [in.c, k, k]; null: not needed
  int32_t tile_pixels = 0, tiles = 0, first_tile = 0;
  int64_t partial_offset = 0;
};

struct ChainBackwardLaunch {
  int32_t batch = 0;
  int32_t count = 0;
  int32_t total_tiles = 0;
  int32_t training = 1;          // batch-statistics backward (else the running-statistics one)
  int32_t accumulate_grads = 0;  // add into pw_grad / dw_grad instead of writing them
  double* partials = nullptr;
  unsigned* counters = nullptr;
  const void* mix = nullptr;
  ChainBackward chain[kMaxChains];
};

// The data-side backward, as a gather over each target tensor (a chain input):
//   grad = base + sum of identities + sum of pools + mask * sum over chains of spatial^T(gd)
// where mask is the derivative of the chains' activation at the target. With sums requested it
// also reduces sum grad and sum grad * xhat_in per channel (xhat_in: the target through its
// activation's batch norm, or the target itself), for the batch norm that produced the target.
struct GatherChain {
  SpatialStage spatial;
  View gd;
  int32_t source = -1;  // the ChainBackward (of the same backward stage) that produces gd
};
struct GatherIdentity {
  View g;
  MixRef weight;
};
enum class PoolKind : int32_t { Max, Avg };

// One edge's share of a pool's gradient: mix * invstd * (g - g_sum / M - xhat * gx_sum / M).
struct GatherPoolEdge {
  View g;
  MixRef weight;
  Stats stats;
  const void* g_sum = nullptr;
  const void* gx_sum = nullptr;
};
// A pool of the target whose output, `pooled`, was kept by the forward: its gradient goes to the
// window's first maximum (max) or is shared over the window's taps inside the image (average).
struct GatherPool {
  PoolKind kind = PoolKind::Max;
  int32_t stride = 1;
  View pooled;
  int32_t first_edge = 0, edges = 0;
};
struct GatherTarget {
  View in;
  Act act = Act::Relu;
  Stats act_stats;
  View grad;  // out
  View base;  // added when data is non-null
  int32_t first_chain = 0, chains = 0;
  int32_t first_identity = 0, identities = 0;
  int32_t first_pool = 0, pools = 0;
  void* g_sum = nullptr;  // epilogue sums (null: none)
  void* gx_sum = nullptr;
  int32_t tile_pixels = 0, tiles = 0, first_tile = 0;
  int64_t partial_offset = 0;
};

struct GatherLaunch {
  int32_t batch = 0;
  int32_t count = 0;
  int32_t total_tiles = 0;
  int32_t training = 1;  // pools: batch-statistics backward (else running statistics)
  const void* mix = nullptr;
  double* partials = nullptr;
  unsigned* counters = nullptr;
  GatherTarget target[kMaxTargets];
  GatherChain chain[kMaxChains];
  GatherIdentity identity[kMaxChains];
  GatherPool pool[kMaxTargets];
  GatherPoolEdge pool_edge[kMaxPoolEdges];
};

// Output size of a spatial stage.
inline int32_t spatial_out(int32_t in, const SpatialStage& s) {
  switch (s.kind) {
    case Spatial::Depthwise:
      return (in + 2 * s.pad - s.dilation * (s.k - 1) - 1) / s.stride + 1;
    case Spatial::Subsample:
      return (in - s.offset - 1) / s.stride + 1;
    case Spatial::MaxPool:
    case Spatial::AvgPool:
      return (in + 2 - 3) / s.stride + 1;
  }
  return 0;
}

}  // namespace fusenas::kernels::cell
