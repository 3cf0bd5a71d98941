// Raw weighted-sum kernels. Input pointers travel in a by-value batch of up to kBatch inputs (so a
// captured CUDA graph keeps them); more inputs take more launches. The backward writes every
// input gradient and one partial dot product per (chunk, input) in a single pass over gy.
#include <algorithm>

#include "common.cuh"
#include "fusenas/kernels/weighted_sum.h"

namespace fusenas::kernels {
namespace {

constexpr int kBatch = 32;        // inputs per launch
constexpr int64_t kChunk = 8192;  // elements per block of the backward (fixed: deterministic)
constexpr int kBackwardThreads = 256;

template <typename T>
struct Batch {
  const T* x[kBatch];
  T* gx[kBatch];
  int first = 0;  // index of x[0] among all inputs
  int count = 0;
};

// out = (accumulate ? out : 0) + sum over the batch, first term written directly as the CPU does.
template <typename T>
__global__ void forward_kernel(int64_t n, Batch<T> b, const T* weights, T* out, bool accumulate) {
  for (int64_t j = detail::thread_index(); j < n; j += detail::thread_count()) {
    int i = 0;
    T acc;
    if (accumulate) {
      acc = out[j];
    } else {
      acc = weights[b.first] * b.x[0][j];
      i = 1;
    }
    for (; i < b.count; ++i) acc += weights[b.first + i] * b.x[i][j];
    out[j] = acc;
  }
}

// Block c handles elements [c * kChunk, (c + 1) * kChunk) for every input of the batch.
template <typename T>
__global__ void backward_kernel(int64_t n, Batch<T> b, const T* weights, const T* gy, bool dots,
                                int total_inputs, double* partials) {
  __shared__ double scratch[32];
  const int64_t lo = blockIdx.x * kChunk;
  const int64_t hi = min(n, lo + kChunk);
  for (int i = 0; i < b.count; ++i) {
    const T w = weights[b.first + i];
    T* gx = b.gx[i];
    const T* x = b.x[i];
    double acc = 0;
    for (int64_t j = lo + threadIdx.x; j < hi; j += blockDim.x) {
      const T g = gy[j];
      if (gx) gx[j] = w * g;
      if (dots) acc += static_cast<double>(g) * static_cast<double>(x[j]);
    }
    if (dots) {
      const double total = detail::block_sum(acc, scratch);
      if (threadIdx.x == 0) partials[blockIdx.x * int64_t(total_inputs) + b.first + i] = total;
      __syncthreads();  // scratch is reused by the next input
    }
  }
}

template <typename T>
__global__ void dot_final_kernel(int64_t chunks, int count, const double* partials, T* gweights) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  double total = 0;
  for (int64_t c = 0; c < chunks; ++c) total += partials[c * count + i];
  gweights[i] = static_cast<T>(total);
}

int64_t chunks_of(int64_t n) {
  return (n + kChunk - 1) / kChunk;
}

}  // namespace

cudaError_t weighted_sum_forward(ScalarType type, int64_t n, int count, const void* const* xs,
                                 const void* weights, void* out, cudaStream_t stream) {
  if (n == 0 || count == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    for (int first = 0; first < count; first += kBatch) {
      Batch<T> b;
      b.first = first;
      b.count = std::min(kBatch, count - first);
      for (int i = 0; i < b.count; ++i) {
        b.x[i] = static_cast<const T*>(xs[first + i]);
        b.gx[i] = nullptr;
      }
      forward_kernel<<<grid_for(n), detail::kThreads, 0, stream>>>(
          n, b, static_cast<const T*>(weights), static_cast<T*>(out), first > 0);
      const cudaError_t err = cudaGetLastError();
      if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
  });
}

int64_t weighted_sum_backward_partials(int64_t n, int count) {
  return chunks_of(n) * count;
}

cudaError_t weighted_sum_backward(ScalarType type, int64_t n, int count, const void* const* xs,
                                  const void* weights, const void* gy, void* const* gxs,
                                  void* gweights, double* partials, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  const bool dots = gweights != nullptr;
  const int64_t chunks = chunks_of(n);
  return detail::with_float_type(type, [&]<typename T>() {
    if (chunks > 0) {
      for (int first = 0; first < count; first += kBatch) {
        Batch<T> b;
        b.first = first;
        b.count = std::min(kBatch, count - first);
        bool any = dots;
        for (int i = 0; i < b.count; ++i) {
          b.x[i] = dots ? static_cast<const T*>(xs[first + i]) : nullptr;
          b.gx[i] = static_cast<T*>(gxs[first + i]);
          any = any || b.gx[i] != nullptr;
        }
        if (!any) continue;
        backward_kernel<<<static_cast<unsigned>(chunks), kBackwardThreads, 0, stream>>>(
            n, b, static_cast<const T*>(weights), static_cast<const T*>(gy), dots, count, partials);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
      }
    }
    if (dots) {
      dot_final_kernel<<<(count + 127) / 128, 128, 0, stream>>>(chunks, count, partials,
                                                                static_cast<T*>(gweights));
    }
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
