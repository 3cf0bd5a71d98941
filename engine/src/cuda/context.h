// Per-device engine context: one stream plus cuBLAS and cuDNN handles, created once and reused.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {

struct DeviceContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
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
