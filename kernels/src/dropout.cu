// Raw dropout / drop_path kernels. Each Philox block (four units) is drawn by one thread from its
// index alone, so masks are bit-identical to the CPU's for the same seed and counter.
#include "common.cuh"
#include "fusenas/kernels/dropout.h"
#include "fusenas/kernels/philox.h"

namespace fusenas::kernels {
namespace {

__device__ __forceinline__ PhiloxBlock draw(uint64_t seed, uint64_t first_block, int64_t block) {
  return philox4x32(seed, first_block + static_cast<uint64_t>(block));
}

template <typename T>
__global__ void dropout_kernel(int64_t n, const T* x, T* y, uint8_t* mask, float threshold, T scale,
                               uint64_t seed, uint64_t first_block) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = detail::thread_index(); b < blocks; b += detail::thread_count()) {
    const PhiloxBlock r = draw(seed, first_block, b);
    for (int k = 0; k < 4; ++k) {
      const int64_t i = b * 4 + k;
      if (i >= n) break;
      const bool keep = philox_uniform(r.v[k]) < threshold;
      mask[i] = keep ? 1 : 0;
      y[i] = x[i] * (keep ? scale : T(0));
    }
  }
}

__global__ void mask_kernel(int64_t units, uint8_t* mask, float threshold, uint64_t seed,
                            uint64_t first_block) {
  const int64_t blocks = (units + 3) / 4;
  for (int64_t b = detail::thread_index(); b < blocks; b += detail::thread_count()) {
    const PhiloxBlock r = draw(seed, first_block, b);
    for (int k = 0; k < 4 && b * 4 + k < units; ++k) {
      mask[b * 4 + k] = philox_uniform(r.v[k]) < threshold ? 1 : 0;
    }
  }
}

template <typename T>
__global__ void masked_scale_kernel(int64_t n, int64_t inner, const T* g, const uint8_t* mask,
                                    T* out, T scale) {
  for (int64_t i = detail::thread_index(); i < n; i += detail::thread_count()) {
    out[i] = g[i] * (mask[i / inner] ? scale : T(0));
  }
}

}  // namespace

cudaError_t dropout_forward(ScalarType type, int64_t n, const void* x, void* y, uint8_t* mask,
                            float threshold, double scale, uint64_t seed, uint64_t first_block,
                            cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    dropout_kernel<<<grid_for((n + 3) / 4), detail::kThreads, 0, stream>>>(
        n, static_cast<const T*>(x), static_cast<T*>(y), mask, threshold, static_cast<T>(scale),
        seed, first_block);
    return cudaGetLastError();
  });
}

cudaError_t drop_path_forward(ScalarType type, int64_t samples, int64_t n, int64_t inner,
                              const void* x, void* y, uint8_t* mask, float threshold, double scale,
                              uint64_t seed, uint64_t first_block, cudaStream_t stream) {
  if (samples == 0) return cudaSuccess;
  mask_kernel<<<grid_for((samples + 3) / 4), detail::kThreads, 0, stream>>>(
      samples, mask, threshold, seed, first_block);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  return masked_scale(type, n, inner, x, mask, y, scale, stream);
}

cudaError_t masked_scale(ScalarType type, int64_t n, int64_t inner, const void* g,
                         const uint8_t* mask, void* out, double scale, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    masked_scale_kernel<<<grid_for(n), detail::kThreads, 0, stream>>>(
        n, inner, static_cast<const T*>(g), mask, static_cast<T*>(out), static_cast<T>(scale));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
