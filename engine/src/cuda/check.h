// CUDA, cuBLAS and cuDNN status checks that throw fusenas::Error with file:line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "cuda/launch_cost.h"
#include "fusenas/engine/error.h"

namespace fusenas::cuda {
// After a raw kernel launcher: throws on a launch error; with FUSENAS_SYNC_DEBUG=1 also
// synchronises so asynchronous faults are reported at the launch that caused them.
// Also notes the launch (note_launch).
void check_launch(cudaError_t launch_status, const char* what, LaunchCost cost, const char* file,
                  int line);
// Counts one launch for cuda::launch_count(), adds `cost` to cuda::launch_totals() and writes the
// launch log's line; for cuBLAS/cuDNN calls, which check_launch does not see.
void note_launch(const char* what, LaunchCost cost);
// Counts one host synchronisation for cuda::host_sync_count().
void note_host_sync();

// A failed runtime call also leaves its error in CUDA's last-error slot, where the next launch
// check would find it and blame that launch: these clear the slot and report the error here.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expr, const char* file,
                                   int line);
// After a cuBLAS or cuDNN call: throws when it failed, or when it returned success but left a
// runtime error behind (the libraries launch kernels of their own), clearing that error first.
void check_library_call(const char* library, bool ok, const char* status, const char* expr,
                        const char* file, int line);
}  // namespace fusenas::cuda

#define FUSENAS_CUDA_CHECK(expr)                                               \
  do {                                                                         \
    const cudaError_t fx_status = (expr);                                      \
    if (fx_status != cudaSuccess)                                              \
      ::fusenas::cuda::throw_cuda_error(fx_status, #expr, __FILE__, __LINE__); \
  } while (0)

#define FUSENAS_CUBLAS_CHECK(expr)                                                         \
  do {                                                                                     \
    const cublasStatus_t fx_status = (expr);                                               \
    ::fusenas::cuda::check_library_call("cuBLAS", fx_status == CUBLAS_STATUS_SUCCESS,      \
                                        cublasGetStatusString(fx_status), #expr, __FILE__, \
                                        __LINE__);                                         \
  } while (0)

#define FUSENAS_CUDNN_CHECK(expr)                                                        \
  do {                                                                                   \
    const cudnnStatus_t fx_status = (expr);                                              \
    ::fusenas::cuda::check_library_call("cuDNN", fx_status == CUDNN_STATUS_SUCCESS,      \
                                        cudnnGetErrorString(fx_status), #expr, __FILE__, \
                                        __LINE__);                                       \
  } while (0)

// Wraps a raw kernel launcher call with its name and LaunchCost:
// FUSENAS_LAUNCH(kernels::fill(...), "fill", LaunchCost(bytes_of(dst), 0)).
#define FUSENAS_LAUNCH(call, what, cost) \
  ::fusenas::cuda::check_launch((call), (what), (cost), __FILE__, __LINE__)
