// Raw kernel that records the first int64 index outside [0, limit): one block scans the indices,
// reduces the smallest bad position through shared memory, and thread 0 fills the record if no
// earlier check has. Integer minima give the same answer whatever the thread order.
#include "common.cuh"
#include "fusenas/kernels/index_check.h"

namespace fusenas::kernels {
namespace {

constexpr int kThreads = 512;
constexpr long long kNone = 0x7fffffffffffffffll;

__global__ void record_kernel(int64_t n, const int64_t* indices, int64_t limit, long long check,
                              IndexErrorRecord* record) {
  __shared__ long long smallest[kThreads / 32];
  long long first = kNone;
  for (int64_t i = threadIdx.x; i < n && first == kNone; i += blockDim.x) {
    const int64_t v = indices[i];
    if (v < 0 || v >= limit) first = i;
  }
  for (int off = 16; off > 0; off >>= 1)
    first = min(first, __shfl_xor_sync(0xffffffffu, first, off));
  if ((threadIdx.x & 31) == 0) smallest[threadIdx.x >> 5] = first;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / 32; ++w) first = min(first, smallest[w]);
    if (first != kNone && record->check == 0) {
      record->check = check;
      record->position = first;
      record->value = indices[first];
    }
  }
}

}  // namespace

cudaError_t record_first_out_of_range(int64_t n, const int64_t* indices, int64_t limit,
                                      long long check, IndexErrorRecord* record,
                                      cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  record_kernel<<<1, kThreads, 0, stream>>>(n, indices, limit, check, record);
  return cudaGetLastError();
}

}  // namespace fusenas::kernels
