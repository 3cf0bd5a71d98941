// Whether this build has CUDA and whether a device is visible.
#include "fusenas/engine/device.h"

#ifdef FUSENAS_WITH_CUDA
#include "fusenas/engine/cuda.h"
#endif

namespace fusenas {

bool built_with_cuda() {
#ifdef FUSENAS_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available() {
#ifdef FUSENAS_WITH_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

}  // namespace fusenas
