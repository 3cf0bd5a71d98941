// One backward stage of the fused cell: chains taken back through their batch norm and pointwise
// convolution, then through their spatial stage into the inputs they read, summed per input with
// the other paths (identities, pools, a base gradient). The gradient between the two halves is
// the stage's own: the CPU keeps it per sample in cache, CUDA gives it a workspace tensor.
#pragma once

#include <utility>
#include <vector>

#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/darts_cell_plan.h"

namespace fusenas::cell_run {

namespace kc = kernels::cell;

// Gather targets under construction, each with its contributions.
struct GatherList {
  struct Target {
    kc::GatherTarget target;
    std::vector<kc::GatherChain> chains;  // `source` indexes BackwardStage::chains
    std::vector<kc::GatherIdentity> identities;
    std::vector<std::pair<kc::GatherPool, std::vector<kc::GatherPoolEdge>>> pools;
  };
  std::vector<Target> targets;
};

struct BackwardStage {
  std::vector<kc::ChainBackward> chains;  // gd unset: produced and consumed inside the stage
  GatherList gather;
  int64_t batch = 0;
  bool training = true;
  const void* mix = nullptr;
};

}  // namespace fusenas::cell_run
