// Fused Adam update (torch.optim.Adam's rule, L2 weight decay, no AMSGrad) over all stepping
// parameters at once.
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas {

struct AdamHyper {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  // CUDA only: 0-d float64 tensors the kernel reads the lr and the step count of every tensor
  // from, instead of lr and AdamTensors::steps (Optimizer::keep_scalars_on_device).
  Tensor device_lr, device_step;
};

// One entry per parameter that steps; all contiguous, same device. steps[i] is parameter i's
// update count including this step (>= 1); each tensor gets its own bias corrections.
struct AdamTensors {
  std::vector<Tensor> params, grads, exp_avgs, exp_avg_sqs;
  std::vector<double> steps;
};

namespace cpu {
void adam_step(const AdamTensors& t, const AdamHyper& h);
}  // namespace cpu

}  // namespace fusenas
