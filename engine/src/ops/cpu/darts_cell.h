// CPU kernels of the fused DARTS cell: each runs one work table of kernels/darts_cell_plan.h
// (float32 or float64), or one backward stage, as one parallel region.
#pragma once

#include "fusenas/engine/dtype.h"
#include "fusenas/kernels/darts_cell_plan.h"
#include "ops/darts_cell_stage.h"

namespace fusenas::cpu {

void cell_chain_forward(DType dtype, const kernels::cell::ChainForwardLaunch& launch);
void cell_running_stats(DType dtype, const kernels::cell::RunningStatsLaunch& launch);
void cell_normalize(DType dtype, const kernels::cell::NormalizeLaunch& launch);
void cell_node_forward(DType dtype, const kernels::cell::NodeLaunch& launch);
void cell_node_sums(DType dtype, const kernels::cell::NodeLaunch& launch);
void cell_backward_stage(DType dtype, const cell_run::BackwardStage& stage);

}  // namespace fusenas::cpu
