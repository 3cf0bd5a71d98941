// Placeholder for the multi-tensor CUDA Adam launcher, so CUDA builds link until it is written.
#include "optim/cuda/adam.h"

namespace fusenas::cuda {

void adam_step(const AdamTensors&, const AdamHyper&) {
  FUSENAS_FAIL("Adam: the CUDA update kernel is not implemented yet (parameters on CUDA)");
}

}  // namespace fusenas::cuda
