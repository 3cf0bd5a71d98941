// Raw multi-tensor SGD and Adam updates. A launch carries up to kBatch tensors by value in its
// argument block (so a captured CUDA graph keeps them); each block updates one kChunk-element
// chunk of one tensor, found from the prefix sums of chunks per tensor. The arithmetic follows the
// CPU kernels term by term, with the scalars rounded to T the same way.
#include <algorithm>
#include <cmath>

#include "common.cuh"
#include "fusenas/kernels/optimizers.h"

namespace fusenas::kernels {
namespace {

constexpr int kBatch = 48;        // tensors per launch: the argument block stays under 4 KB
constexpr int64_t kChunk = 4096;  // elements per block
constexpr int kUpdateThreads = 256;

// Tensor list of one launch: chunk_end[t] = chunks of tensors 0..t; ptr[s][t] is slot s of
// tensor t; scalar[s][t] per-tensor scalars.
template <int kSlots, int kScalars>
struct TensorBatch {
  int count = 0;
  int64_t chunk_end[kBatch];
  int64_t numel[kBatch];
  void* ptr[kSlots][kBatch];
  double scalar[kScalars][kBatch];
};

// The tensor and element range of this block.
template <int kSlots, int kScalars>
__device__ __forceinline__ int locate(const TensorBatch<kSlots, kScalars>& b, int64_t& lo,
                                      int64_t& hi) {
  int t = 0;
  while (t + 1 < b.count && blockIdx.x >= b.chunk_end[t]) ++t;
  const int64_t chunk = blockIdx.x - (t > 0 ? b.chunk_end[t - 1] : 0);
  lo = chunk * kChunk;
  hi = min(b.numel[t], lo + kChunk);
  return t;
}

// Slots: param, grad, momentum buffer. Scalars: first_step (0/1).
template <typename T>
__global__ void sgd_kernel(TensorBatch<3, 1> b, SgdConfig h) {
  int64_t lo, hi;
  const int t = locate(b, lo, hi);
  T* p = static_cast<T*>(b.ptr[0][t]);
  const T* g = static_cast<const T*>(b.ptr[1][t]);
  T* buf = static_cast<T*>(b.ptr[2][t]);
  const bool first = b.scalar[0][t] != 0;
  const T wd = static_cast<T>(h.weight_decay);
  const T momentum = static_cast<T>(h.momentum);
  const T keep = static_cast<T>(1.0 - h.dampening);
  const T neg_lr = static_cast<T>(-(h.device_lr ? *h.device_lr : h.lr));
  const bool decay = h.weight_decay != 0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    T d = g[i];
    if (decay) d = d + wd * p[i];
    if (buf) {
      buf[i] = first ? d : buf[i] * momentum + keep * d;
      d = h.nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] = p[i] + neg_lr * d;
  }
}

// Slots: param, grad, exp_avg, exp_avg_sq. Scalars: -(lr / bc1), sqrt(bc2), unless the config
// holds them on the device.
template <typename T>
__global__ void adam_kernel(TensorBatch<4, 2> b, AdamConfig h) {
  int64_t lo, hi;
  const int t = locate(b, lo, hi);
  T* p = static_cast<T*>(b.ptr[0][t]);
  const T* g = static_cast<const T*>(b.ptr[1][t]);
  T* m = static_cast<T*>(b.ptr[2][t]);
  T* v = static_cast<T*>(b.ptr[3][t]);
  double neg_step_size_d = b.scalar[0][t], bc2_sqrt_d = b.scalar[1][t];
  if (h.device_step) {
    const double step = *h.device_step;
    neg_step_size_d = -(*h.device_lr / (1.0 - pow(h.beta1, step)));
    bc2_sqrt_d = sqrt(1.0 - pow(h.beta2, step));
  }
  const T neg_step_size = static_cast<T>(neg_step_size_d);
  const T bc2_sqrt = static_cast<T>(bc2_sqrt_d);
  const T b1 = static_cast<T>(h.beta1), one_minus_b1 = static_cast<T>(1.0 - h.beta1);
  const T b2 = static_cast<T>(h.beta2), one_minus_b2 = static_cast<T>(1.0 - h.beta2);
  const T eps = static_cast<T>(h.eps);
  const T wd = static_cast<T>(h.weight_decay);
  const bool decay = h.weight_decay != 0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    T grad = g[i];
    if (decay) grad = grad + wd * p[i];
    m[i] = m[i] * b1 + one_minus_b1 * grad;
    v[i] = v[i] * b2 + one_minus_b2 * grad * grad;
    const T denom = sqrt(v[i]) / bc2_sqrt + eps;
    p[i] = p[i] + neg_step_size * m[i] / denom;
  }
}

// Slot: a gradient. Each block writes the sum of squares of its chunk (in double) to
// partials[first_partial + block].
template <typename T>
__global__ void squares_kernel(TensorBatch<1, 0> b, double* partials, int64_t first_partial) {
  __shared__ double scratch[32];
  int64_t lo, hi;
  const int t = locate(b, lo, hi);
  const T* g = static_cast<const T*>(b.ptr[0][t]);
  double s = 0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const double v = static_cast<double>(g[i]);
    s += v * v;
  }
  s = detail::block_sum(s, scratch);
  if (threadIdx.x == 0) partials[first_partial + blockIdx.x] = s;
}

// One block: out = the partials summed in a fixed order (per thread strided, then block_sum).
template <typename T>
__global__ void sum_partials_kernel(const double* partials, int64_t count, T* out) {
  __shared__ double scratch[32];
  double s = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partials[i];
  s = detail::block_sum(s, scratch);
  if (threadIdx.x == 0) *out = static_cast<T>(s);
}

// Slot: a gradient, scaled in place by *factor.
template <typename T>
__global__ void scale_kernel(TensorBatch<1, 0> b, const T* factor) {
  int64_t lo, hi;
  const int t = locate(b, lo, hi);
  T* g = static_cast<T*>(b.ptr[0][t]);
  const T f = *factor;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) g[i] = g[i] * f;
}

// Packs tensors into batches and launches `launch(batch, chunks)` for each non-empty one.
// fill(batch, slot_index, tensor) copies one tensor's pointers and scalars.
template <int kSlots, int kScalars, typename Tensor, typename Fill, typename Launch>
cudaError_t for_each_batch(const Tensor* tensors, int count, Fill&& fill, Launch&& launch) {
  TensorBatch<kSlots, kScalars> b;
  int64_t chunks = 0;
  auto flush = [&]() -> cudaError_t {
    if (b.count == 0) return cudaSuccess;
    const cudaError_t err = launch(b, chunks);
    b.count = 0;
    chunks = 0;
    return err;
  };
  for (int k = 0; k < count; ++k) {
    const int64_t n = tensors[k].numel;
    if (n == 0) continue;
    const int64_t need = (n + kChunk - 1) / kChunk;
    if (b.count == kBatch || chunks + need > 0x7fffffff) {
      const cudaError_t err = flush();
      if (err != cudaSuccess) return err;
    }
    fill(b, b.count, tensors[k]);
    b.numel[b.count] = n;
    chunks += need;
    b.chunk_end[b.count] = chunks;
    b.count++;
  }
  return flush();
}

// Slots: dst, src. dst = src, or dst += alpha * src.
template <typename T, bool kCopy>
__global__ void pair_kernel(TensorBatch<2, 0> b, T alpha) {
  int64_t lo, hi;
  const int t = locate(b, lo, hi);
  T* dst = static_cast<T*>(b.ptr[0][t]);
  const T* src = static_cast<const T*>(b.ptr[1][t]);
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    if constexpr (kCopy) {
      dst[i] = src[i];
    } else {
      dst[i] += alpha * src[i];
    }
  }
}

template <bool kCopy>
cudaError_t pairs_multi_tensor(ScalarType type, const TensorPair* pairs, int count, double alpha,
                               cudaStream_t stream) {
  return detail::with_float_type(type, [&]<typename T>() {
    return for_each_batch<2, 0>(
        pairs, count,
        [](TensorBatch<2, 0>& b, int i, const TensorPair& t) {
          b.ptr[0][i] = t.dst;
          b.ptr[1][i] = const_cast<void*>(t.src);
        },
        [&](const TensorBatch<2, 0>& b, int64_t chunks) {
          pair_kernel<T, kCopy><<<static_cast<unsigned>(chunks), kUpdateThreads, 0, stream>>>(
              b, static_cast<T>(alpha));
          return cudaGetLastError();
        });
  });
}

}  // namespace

int64_t sum_squares_partials(const GradTensor* tensors, int count) {
  int64_t chunks = 0;
  for (int k = 0; k < count; ++k) chunks += (tensors[k].numel + kChunk - 1) / kChunk;
  return chunks;
}

cudaError_t sum_squares_multi_tensor(ScalarType type, const GradTensor* tensors, int count,
                                     double* partials, void* out, cudaStream_t stream) {
  return detail::with_float_type(type, [&]<typename T>() {
    int64_t used = 0;
    const cudaError_t err = for_each_batch<1, 0>(
        tensors, count,
        [](TensorBatch<1, 0>& b, int i, const GradTensor& t) { b.ptr[0][i] = t.grad; },
        [&](const TensorBatch<1, 0>& b, int64_t chunks) {
          squares_kernel<T>
              <<<static_cast<unsigned>(chunks), kUpdateThreads, 0, stream>>>(b, partials, used);
          used += chunks;
          return cudaGetLastError();
        });
    if (err != cudaSuccess) return err;
    sum_partials_kernel<T><<<1, kUpdateThreads, 0, stream>>>(partials, used, static_cast<T*>(out));
    return cudaGetLastError();
  });
}

cudaError_t scale_multi_tensor(ScalarType type, const GradTensor* tensors, int count,
                               const void* factor, cudaStream_t stream) {
  return detail::with_float_type(type, [&]<typename T>() {
    return for_each_batch<1, 0>(
        tensors, count,
        [](TensorBatch<1, 0>& b, int i, const GradTensor& t) { b.ptr[0][i] = t.grad; },
        [&](const TensorBatch<1, 0>& b, int64_t chunks) {
          scale_kernel<T><<<static_cast<unsigned>(chunks), kUpdateThreads, 0, stream>>>(
              b, static_cast<const T*>(factor));
          return cudaGetLastError();
        });
  });
}

cudaError_t sgd_multi_tensor(ScalarType type, const SgdTensor* tensors, int count,
                             const SgdConfig& config, cudaStream_t stream) {
  return detail::with_float_type(type, [&]<typename T>() {
    return for_each_batch<3, 1>(
        tensors, count,
        [](TensorBatch<3, 1>& b, int i, const SgdTensor& t) {
          b.ptr[0][i] = t.param;
          b.ptr[1][i] = const_cast<void*>(t.grad);
          b.ptr[2][i] = t.momentum;
          b.scalar[0][i] = t.first_step ? 1.0 : 0.0;
        },
        [&](const TensorBatch<3, 1>& b, int64_t chunks) {
          sgd_kernel<T><<<static_cast<unsigned>(chunks), kUpdateThreads, 0, stream>>>(b, config);
          return cudaGetLastError();
        });
  });
}

cudaError_t adam_multi_tensor(ScalarType type, const AdamTensor* tensors, int count,
                              const AdamConfig& config, cudaStream_t stream) {
  return detail::with_float_type(type, [&]<typename T>() {
    return for_each_batch<4, 2>(
        tensors, count,
        [&](TensorBatch<4, 2>& b, int i, const AdamTensor& t) {
          // torch computes these in Python doubles and hands them to the float kernels.
          const double bc1 = 1.0 - std::pow(config.beta1, t.step);
          const double bc2 = 1.0 - std::pow(config.beta2, t.step);
          b.ptr[0][i] = t.param;
          b.ptr[1][i] = const_cast<void*>(t.grad);
          b.ptr[2][i] = t.exp_avg;
          b.ptr[3][i] = t.exp_avg_sq;
          b.scalar[0][i] = -(config.lr / bc1);
          b.scalar[1][i] = std::sqrt(bc2);
        },
        [&](const TensorBatch<4, 2>& b, int64_t chunks) {
          adam_kernel<T><<<static_cast<unsigned>(chunks), kUpdateThreads, 0, stream>>>(b, config);
          return cudaGetLastError();
        });
  });
}

cudaError_t copy_multi_tensor(ScalarType type, const TensorPair* pairs, int count,
                              cudaStream_t stream) {
  return pairs_multi_tensor<true>(type, pairs, count, 1.0, stream);
}

cudaError_t axpy_multi_tensor(ScalarType type, const TensorPair* pairs, int count, double alpha,
                              cudaStream_t stream) {
  return pairs_multi_tensor<false>(type, pairs, count, alpha, stream);
}

}  // namespace fusenas::kernels
