// Shared plumbing for raw kernels: scalar type tags, strided index descriptors, grid sizing.
// Every launcher returns the cudaError_t of its launch; the engine turns failures into errors.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace fusenas::kernels {

enum class ScalarType { F32, F64, I64, U8 };

constexpr int kMaxDims = 8;

// Shape and per-operand strides (in elements) of an N-d iteration space, passed by value.
template <int K>
struct StridedDesc {
  int rank = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[K][kMaxDims] = {};
};

// Blocks for n one-per-thread units, capped: kernels launched with it loop over the rest
// (grid-stride). The CPU emulator caps far lower, so that the gpu tests, whose tensors are small,
// walk those loops too; on a card only tensors beyond 134 M elements would.
#ifdef FUSENAS_EMULATED_KERNELS
constexpr int64_t kMaxGridBlocks = 16;
#else
constexpr int64_t kMaxGridBlocks = 65535 * 8;
#endif
inline unsigned grid_for(int64_t n, int block = 256, int64_t max_blocks = kMaxGridBlocks) {
  int64_t blocks = (n + block - 1) / block;
  if (blocks > max_blocks) blocks = max_blocks;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

#if defined(__CUDACC__) || defined(FUSENAS_EMULATED_KERNELS)
// Offsets of linear element `i` in each of K operands.
template <int K>
__device__ __forceinline__ void strided_offsets(const StridedDesc<K>& d, int64_t i,
                                                int64_t (&off)[K]) {
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int dim = d.rank - 1; dim >= 0; --dim) {
    const int64_t idx = i % d.shape[dim];
    i /= d.shape[dim];
    for (int k = 0; k < K; ++k) off[k] += idx * d.strides[k][dim];
  }
}
#endif

}  // namespace fusenas::kernels
