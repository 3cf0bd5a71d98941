// The bridge from the composed search cell's modules to the fused darts_cell op: op specs from
// the search space's names, and each module's weights in the order the op expects.
#pragma once

#include "fusenas/engine/darts_cell.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nas {

// A module's convolution weights and batch-norm running statistics, in pre-order (the order the
// fused op lists them for every op kind). Fails for modules the fused op cannot compute (a conv
// with a bias, an affine batch norm); `fusable_weights` says so without throwing.
CellOpWeights cell_op_weights(nn::Module& op);
bool fusable_weights(nn::Module& op);

}  // namespace fusenas::nas
