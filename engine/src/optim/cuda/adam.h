// CUDA launcher for the fused Adam update (same contract as optim/cpu/adam.h). It takes every
// stepping parameter at once so one multi-tensor launch can update them all.
#pragma once

#include "optim/cpu/adam.h"

namespace fusenas::cuda {
void adam_step(const AdamTensors& t, const AdamHyper& h);
}  // namespace fusenas::cuda
