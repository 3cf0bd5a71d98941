// CUDA, cuBLAS and cuDNN status checks that throw fusenas::Error with file:line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "fusenas/engine/error.h"

namespace fusenas::cuda {
// After a raw kernel launcher: throws on a launch error; with FUSENAS_SYNC_DEBUG=1 also
// synchronises so asynchronous faults are reported at the launch that caused them.
// Also counts one launch for cuda::launch_count().
void check_launch(cudaError_t launch_status, const char* what, const char* file, int line);
// Counts one launch for cuda::launch_count(); for cuBLAS/cuDNN calls, which check_launch does not
// see.
void note_launch();
}  // namespace fusenas::cuda

#define FUSENAS_CUDA_CHECK(expr)                                                                  \
  do {                                                                                            \
    const cudaError_t fx_status = (expr);                                                         \
    FUSENAS_CHECK(fx_status == cudaSuccess, "CUDA error {} in {}", cudaGetErrorString(fx_status), \
                  #expr);                                                                         \
  } while (0)

#define FUSENAS_CUBLAS_CHECK(expr)                                             \
  do {                                                                         \
    const cublasStatus_t fx_status = (expr);                                   \
    FUSENAS_CHECK(fx_status == CUBLAS_STATUS_SUCCESS, "cuBLAS error {} in {}", \
                  cublasGetStatusString(fx_status), #expr);                    \
  } while (0)

#define FUSENAS_CUDNN_CHECK(expr)                                            \
  do {                                                                       \
    const cudnnStatus_t fx_status = (expr);                                  \
    FUSENAS_CHECK(fx_status == CUDNN_STATUS_SUCCESS, "cuDNN error {} in {}", \
                  cudnnGetErrorString(fx_status), #expr);                    \
  } while (0)

// Wraps a raw kernel launcher call: FUSENAS_LAUNCH(kernels::fill(...), "fill").
#define FUSENAS_LAUNCH(call, what) ::fusenas::cuda::check_launch((call), (what), __FILE__, __LINE__)
