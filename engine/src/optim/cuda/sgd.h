// CUDA launcher for the fused SGD update (same contract as optim/cpu/sgd.h). It takes every
// stepping parameter at once so one multi-tensor launch can update them all.
#pragma once

#include "optim/cpu/sgd.h"

namespace fusenas::cuda {
void sgd_step(const SgdTensors& t, const SgdHyper& h);
}  // namespace fusenas::cuda
