// Fused SGD update (torch.optim.SGD's rule) over all stepping parameters at once.
#pragma once

#include <cstdint>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas {

struct SgdHyper {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  // CUDA only: a 0-d float64 tensor the kernel reads the lr from
  // (Optimizer::keep_scalars_on_device).
  Tensor device_lr;
};

// One entry per parameter that steps; all contiguous, same device. momentum_buffers is empty
// when momentum == 0; first_step[i] != 0 makes buffer i start as d_p instead of decaying.
struct SgdTensors {
  std::vector<Tensor> params, grads, momentum_buffers;
  std::vector<uint8_t> first_step;
};

namespace cpu {
void sgd_step(const SgdTensors& t, const SgdHyper& h);
}  // namespace cpu

}  // namespace fusenas
