// CUDA launchers of the fused DARTS cell's passes: tile the tables, give them reduction scratch
// and launch the raw kernels on the engine stream.
#pragma once

#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/darts_cell_plan.h"
#include "ops/darts_cell_stage.h"

namespace fusenas::cuda {

void cell_chain_forward(const Tensor& like, kernels::cell::ChainForwardLaunch& launch);
void cell_running_stats(const Tensor& like, kernels::cell::RunningStatsLaunch& launch);
void cell_normalize(const Tensor& like, kernels::cell::NormalizeLaunch& launch);
void cell_node_forward(const Tensor& like, kernels::cell::NodeLaunch& launch);
void cell_node_sums(const Tensor& like, kernels::cell::NodeLaunch& launch);
// Gives the stage's intermediate gradients workspace tensors, then launches its chains and gathers.
void cell_backward_stage(const Tensor& like, cell_run::BackwardStage& stage);

}  // namespace fusenas::cuda
