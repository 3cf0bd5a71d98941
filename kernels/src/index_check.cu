// Raw kernel that finds the first int64 index outside [0, limit). Integer atomicMin gives the same
// answer whatever the thread order.
#include "common.cuh"
#include "fusenas/kernels/index_check.h"

namespace fusenas::kernels {
namespace {

__global__ void first_out_of_range_kernel(int64_t n, const int64_t* indices, int64_t limit,
                                          unsigned long long* first_bad) {
  for (int64_t i = detail::thread_index(); i < n; i += detail::thread_count()) {
    const int64_t v = indices[i];
    if (v < 0 || v >= limit) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

}  // namespace

cudaError_t find_first_out_of_range(int64_t n, const int64_t* indices, int64_t limit,
                                    unsigned long long* first_bad, cudaStream_t stream) {
  // 0xFF bytes are kNoBadIndex.
  cudaError_t err = cudaMemsetAsync(first_bad, 0xFF, sizeof(unsigned long long), stream);
  if (err != cudaSuccess || n == 0) return err;
  first_out_of_range_kernel<<<grid_for(n), detail::kThreads, 0, stream>>>(n, indices, limit,
                                                                          first_bad);
  return cudaGetLastError();
}

}  // namespace fusenas::kernels
