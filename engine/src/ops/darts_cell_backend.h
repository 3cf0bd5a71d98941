// Runs one work table (or backward stage) of the fused DARTS cell on the CPU or on CUDA, chosen by
// a tensor's device.
#pragma once

#include "core/dispatch.h"
#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/darts_cell_plan.h"
#include "ops/cpu/darts_cell.h"
#include "ops/cuda/darts_cell.h"

namespace fusenas::cell_backend {

namespace kc = kernels::cell;

#define FUSENAS_CELL_PASS(name, Launch)                  \
  inline void name(const Tensor& like, Launch& launch) { \
    if (like.is_cuda()) {                                \
      FUSENAS_ON_CUDA(cuda::cell_##name(like, launch));  \
    } else {                                             \
      cpu::cell_##name(like.dtype(), launch);            \
    }                                                    \
  }

FUSENAS_CELL_PASS(chain_forward, kc::ChainForwardLaunch)
FUSENAS_CELL_PASS(running_stats, kc::RunningStatsLaunch)
FUSENAS_CELL_PASS(normalize, kc::NormalizeLaunch)
FUSENAS_CELL_PASS(node_forward, kc::NodeLaunch)
FUSENAS_CELL_PASS(node_sums, kc::NodeLaunch)

#undef FUSENAS_CELL_PASS

inline void backward_stage(const Tensor& like, cell_run::BackwardStage& stage) {
  if (like.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::cell_backward_stage(like, stage));
  } else {
    cpu::cell_backward_stage(like.dtype(), stage);
  }
}

}  // namespace fusenas::cell_backend
