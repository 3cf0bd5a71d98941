// optim::clip_grad_norm: torch.nn.utils.clip_grad_norm_ with the L2 norm.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::optim {

// Returns the L2 norm of all gradients together (before clipping; 0 when none has a gradient)
// and, when max_norm / (norm + 1e-6) < 1, scales every gradient in place by that factor.
// Parameters without a gradient are skipped.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace fusenas::optim
