// Raw reduction kernels over contiguous [rows, cols] data, deterministic (no atomics).
#include <algorithm>

#include "fusenas/kernels/reduce.h"

namespace fusenas::kernels {
namespace {

constexpr int64_t kMinRowsPerSlab = 256;

// Slabs ride on grid.y (at most 65535): long columns take longer slabs.
int64_t rows_per_slab(int64_t rows) {
  return std::max(kMinRowsPerSlab, (rows + 65534) / 65535);
}
int64_t slabs_of(int64_t rows) {
  return (rows + rows_per_slab(rows) - 1) / rows_per_slab(rows);
}

// One warp per row, double accumulation, shuffle reduction.
template <typename T>
__global__ void row_sum_kernel(int64_t rows, int64_t cols, const T* x, T* out, double factor) {
  const int64_t row = blockIdx.x * int64_t(blockDim.y) + threadIdx.y;
  if (row >= rows) return;
  const T* p = x + row * cols;
  double acc = 0;
  for (int64_t c = threadIdx.x; c < cols; c += 32) acc += p[c];
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
  if (threadIdx.x == 0) out[row] = static_cast<T>(acc * factor);
}

// Stage 1: slab s of slab_rows rows -> partials[s, c].
template <typename T>
__global__ void column_partial_kernel(int64_t rows, int64_t cols, int64_t slab_rows, const T* x,
                                      double* partials) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= cols) return;
  const int64_t r0 = int64_t(blockIdx.y) * slab_rows;
  const int64_t r1 = min(rows, r0 + slab_rows);
  double acc = 0;
  for (int64_t r = r0; r < r1; ++r) acc += x[r * cols + c];
  partials[int64_t(blockIdx.y) * cols + c] = acc;
}

// Stage 2: out[c] = factor * sum_s partials[s, c].
template <typename T>
__global__ void column_final_kernel(int64_t slabs, int64_t cols, const double* partials, T* out,
                                    double factor) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= cols) return;
  double acc = 0;
  for (int64_t s = 0; s < slabs; ++s) acc += partials[s * cols + c];
  out[c] = static_cast<T>(acc * factor);
}

// One thread per row, grid-stride: the launch's grid is capped, rows are not.
template <typename T>
__global__ void argmax_kernel(int64_t rows, int64_t cols, const T* x, int64_t* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t row = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; row < rows; row += stride) {
    const T* p = x + row * cols;
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c) {
      if (p[c] > p[best]) best = c;
    }
    out[row] = best;
  }
}

template <typename F>
cudaError_t with_float_type(ScalarType type, F&& fn) {
  if (type == ScalarType::F32) return fn.template operator()<float>();
  if (type == ScalarType::F64) return fn.template operator()<double>();
  return cudaErrorInvalidValue;
}

}  // namespace

int64_t column_sum_partials(int64_t rows, int64_t cols) {
  return slabs_of(rows) * cols;
}

cudaError_t row_sum(ScalarType type, int64_t rows, int64_t cols, const void* x, void* out,
                    double factor, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    const dim3 block(32, 8);
    row_sum_kernel<<<static_cast<unsigned>((rows + 7) / 8), block, 0, stream>>>(
        rows, cols, static_cast<const T*>(x), static_cast<T*>(out), factor);
    return cudaGetLastError();
  });
}

cudaError_t column_sum(ScalarType type, int64_t rows, int64_t cols, const void* x, void* out,
                       double factor, double* partials, cudaStream_t stream) {
  if (cols == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    const int64_t slabs = slabs_of(rows);
    const unsigned col_blocks = static_cast<unsigned>((cols + 127) / 128);
    if (slabs > 0) {
      column_partial_kernel<<<dim3(col_blocks, static_cast<unsigned>(slabs)), 128, 0, stream>>>(
          rows, cols, rows_per_slab(rows), static_cast<const T*>(x), partials);
    }
    column_final_kernel<<<col_blocks, 128, 0, stream>>>(slabs, cols, partials, static_cast<T*>(out),
                                                        factor);
    return cudaGetLastError();
  });
}

cudaError_t argmax_rows(ScalarType type, int64_t rows, int64_t cols, const void* x, int64_t* out,
                        cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    argmax_kernel<<<grid_for(rows), 256, 0, stream>>>(rows, cols, static_cast<const T*>(x), out);
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
