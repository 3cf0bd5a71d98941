// Placeholder for the multi-tensor CUDA SGD launcher, so CUDA builds link until it is written.
#include "optim/cuda/sgd.h"

namespace fusenas::cuda {

void sgd_step(const SgdTensors&, const SgdHyper&) {
  FUSENAS_FAIL("SGD: the CUDA update kernel is not implemented yet (parameters on CUDA)");
}

}  // namespace fusenas::cuda
