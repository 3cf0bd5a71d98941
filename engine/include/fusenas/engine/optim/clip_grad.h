// optim::clip_grad_norm: torch.nn.utils.clip_grad_norm_ with the L2 norm.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::optim {

// Scales every gradient in place by min(1, max_norm / (norm + 1e-6)), where norm is the L2 norm
// of all gradients together, and returns that norm (before clipping) as a 0-d tensor on the
// gradients' device: nothing is read back, so a GPU step stays free of host syncs (and can be
// captured into a CUDA graph). Parameters without a gradient are skipped; with none at all the
// result is undefined.
Tensor clip_grad_norm_on_device(const std::vector<Tensor>& params, double max_norm);

// The same, returning the norm as a number (0 when no parameter has a gradient): one host sync.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace fusenas::optim
