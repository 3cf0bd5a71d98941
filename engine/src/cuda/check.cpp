// Reporting of failed CUDA runtime, cuBLAS and cuDNN calls at the call that failed.
#include "cuda/check.h"

namespace fusenas::cuda {

void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
  cudaGetLastError();  // the same error, recorded again in the slot the next launch check reads
  detail::throw_error(file, line,
                      fmt::format("CUDA error {} in {}", cudaGetErrorString(status), expr));
}

void check_library_call(const char* library, bool ok, const char* status, const char* expr,
                        const char* file, int line) {
  // Read (and clear) the slot even when the library reports success: a runtime error it left
  // behind would otherwise surface at the next unrelated launch, or fail CUB's next sort.
  const cudaError_t left = cudaGetLastError();
  if (ok && left == cudaSuccess) return;
  std::string message = ok ? fmt::format("{} call {} succeeded but left CUDA error {}", library,
                                         expr, cudaGetErrorString(left))
                           : fmt::format("{} error {} in {}", library, status, expr);
  if (!ok && left != cudaSuccess)
    message += fmt::format(" (CUDA error {})", cudaGetErrorString(left));
  detail::throw_error(file, line, message);
}

}  // namespace fusenas::cuda
