// Raw CUDA kernels of the fused DARTS cell: each launch runs one work table of
// darts_cell_plan.h. Tables travel by value (a captured graph keeps them); the reductions
// (batch-norm statistics, weight gradients, per-channel gradient sums) write one partial per
// block into `partials` and the last block of each problem adds them in block order, so results
// do not depend on scheduling.
#pragma once

#include "fusenas/kernels/darts_cell_plan.h"
#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Pixels per block of a chain's forward / backward, and of a gather, for the channel counts
// involved (shared-memory tiles are fixed-size).
int cell_chain_tile_pixels(ScalarType type, int cin, int cout);
int cell_chain_backward_tile_pixels(ScalarType type, int cin, int cout);
int cell_gather_tile_pixels(int channels);
int cell_node_tile_pixels(int channels);
// Elements of the kernel's scalar type one block's shared tile holds.
int cell_tile_elements(ScalarType type);

cudaError_t cell_chain_forward(ScalarType type, const cell::ChainForwardLaunch& launch,
                               cudaStream_t stream);
cudaError_t cell_running_stats(ScalarType type, const cell::RunningStatsLaunch& launch,
                               cudaStream_t stream);
cudaError_t cell_normalize(ScalarType type, const cell::NormalizeLaunch& launch,
                           cudaStream_t stream);
cudaError_t cell_node_forward(ScalarType type, const cell::NodeLaunch& launch, cudaStream_t stream);
cudaError_t cell_node_sums(ScalarType type, const cell::NodeLaunch& launch, cudaStream_t stream);
cudaError_t cell_chain_backward(ScalarType type, const cell::ChainBackwardLaunch& launch,
                                cudaStream_t stream);
cudaError_t cell_gather(ScalarType type, const cell::GatherLaunch& launch, cudaStream_t stream);

}  // namespace fusenas::kernels
