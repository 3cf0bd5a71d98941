// Device-side check for ops whose contract reports the first out-of-range label or index. Reading
// the answer back is the only host synchronisation inside an op; it is skipped while the stream is
// being captured into a CUDA graph (such a step cannot report; the op's kernels then produce NaN
// for the bad entries instead).
#pragma once

#include <cuda_runtime.h>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {

class IndexCheck {
 public:
  // Launches the check of contiguous int64 `indices` (on a CUDA device) against [0, limit).
  IndexCheck(const Tensor& indices, int64_t limit);
  // The first position outside the range, or -1 (also -1 while capturing). Synchronises.
  int64_t first_bad() const;

 private:
  Tensor flag_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace fusenas::cuda
