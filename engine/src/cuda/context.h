// Per-device engine context: one stream plus cuBLAS and cuDNN handles, created once and reused.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "fusenas/engine/tensor.h"

namespace fusenas::kernels {
struct IndexErrorRecord;
}

namespace fusenas::cuda {

constexpr int kMaxDevices = 16;

struct DeviceContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  // Where label and index checks record the first bad entry (cuda/index_check.h); device memory.
  kernels::IndexErrorRecord* index_errors = nullptr;
};

// The context of `device`, created on first use; also makes `device` current on this thread.
DeviceContext& context(int device);
inline DeviceContext& context_for(const Tensor& t) {
  return context(t.device().index);
}
// True while cuda::Graph captures on some stream: host synchronisation would break the capture.
bool capture_active();
void set_capture_active(bool active);

inline cudaStream_t stream_for(const Tensor& t) {
  return context_for(t).stream;
}

}  // namespace fusenas::cuda
