// Raw batch-norm kernels. Each direction is one reduction pass (per-channel double sums over fixed
// row slabs, then the slabs added in order: deterministic), one per-channel finalise (statistics,
// running-stat update, folded coefficients) and one elementwise pass.
#include <algorithm>

#include "common.cuh"
#include "fusenas/kernels/batch_norm.h"

namespace fusenas::kernels {
namespace {

constexpr int kRowGroups = 8;  // block (32 channels, kRowGroups row groups)

int64_t rows_per_slab(int64_t rows) {
  return std::max(int64_t(256), (rows + 65534) / 65535);  // slabs ride on grid.y
}
int64_t slabs_of(int64_t rows) {
  return rows == 0 ? 0 : (rows + rows_per_slab(rows) - 1) / rows_per_slab(rows);
}

// Adds the kRowGroups partial pairs of each channel in order and stores them for this slab:
// partials[(slab * 2 + j) * c + ch] for j = 0, 1.
__device__ __forceinline__ void store_slab(double s1, double s2, int64_t c, int64_t ch,
                                           double* partials) {
  __shared__ double part[2][kRowGroups][32];
  part[0][threadIdx.y][threadIdx.x] = s1;
  part[1][threadIdx.y][threadIdx.x] = s2;
  __syncthreads();
  if (threadIdx.y == 0 && ch < c) {
    double t1 = 0, t2 = 0;
    for (int g = 0; g < kRowGroups; ++g) {
      t1 += part[0][g][threadIdx.x];
      t2 += part[1][g][threadIdx.x];
    }
    partials[(blockIdx.y * int64_t(2)) * c + ch] = t1;
    partials[(blockIdx.y * int64_t(2) + 1) * c + ch] = t2;
  }
}

// Sums of (x - pivot) and (x - pivot)^2 with pivot = the first row: shifting by a sample keeps
// the one-pass variance free of cancellation when |mean| >> std.
template <typename T>
__global__ void moments_kernel(int64_t rows, int64_t c, int64_t slab_rows, const T* x,
                               double* partials) {
  const int64_t ch = blockIdx.x * int64_t(32) + threadIdx.x;
  const int64_t r0 = blockIdx.y * slab_rows, r1 = min(rows, r0 + slab_rows);
  double s1 = 0, s2 = 0;
  if (ch < c) {
    const T pivot = x[ch];
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowGroups) {
      const double d = static_cast<double>(x[r * c + ch] - pivot);
      s1 += d;
      s2 += d * d;
    }
  }
  store_slab(s1, s2, c, ch, partials);
}

// Sums of gy and gy * (x - mean).
template <typename T>
__global__ void grad_sums_kernel(int64_t rows, int64_t c, int64_t slab_rows, const T* gy,
                                 const T* x, const T* mean, double* partials) {
  const int64_t ch = blockIdx.x * int64_t(32) + threadIdx.x;
  const int64_t r0 = blockIdx.y * slab_rows, r1 = min(rows, r0 + slab_rows);
  double s1 = 0, s2 = 0;
  if (ch < c) {
    const T m = mean[ch];
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowGroups) {
      const int64_t i = r * c + ch;
      const T g = gy[i];
      s1 += static_cast<double>(g);
      s2 += static_cast<double>(g * (x[i] - m));
    }
  }
  store_slab(s1, s2, c, ch, partials);
}

__device__ __forceinline__ void slab_totals(int64_t slabs, int64_t c, int64_t ch,
                                            const double* partials, double& s1, double& s2) {
  s1 = 0;
  s2 = 0;
  for (int64_t s = 0; s < slabs; ++s) {
    s1 += partials[(s * 2) * c + ch];
    s2 += partials[(s * 2 + 1) * c + ch];
  }
}

// One thread per channel: statistics, running-stat update, save_mean/invstd and the folded
// coefficients coef = [scale (c), shift (c)] of y = (x - mean) * scale + shift.
template <typename T>
__global__ void forward_finalize_kernel(int64_t rows, int64_t c, int64_t slabs,
                                        const double* partials, const T* x, const T* weight,
                                        const T* bias, T* running_mean, T* running_var,
                                        bool training, double momentum, double eps, T* save_mean,
                                        T* save_invstd, double* coef) {
  const int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (ch >= c) return;
  double mean, var;
  if (training) {
    double s1, s2;
    slab_totals(slabs, c, ch, partials, s1, s2);
    const double n = static_cast<double>(rows);
    const double d = s1 / n;
    mean = static_cast<double>(x[ch]) + d;
    var = max(s2 / n - d * d, 0.0);
    if (running_mean) {
      const double unbias = n / (n - 1);
      running_mean[ch] = static_cast<T>((1 - momentum) * running_mean[ch] + momentum * mean);
      running_var[ch] = static_cast<T>((1 - momentum) * running_var[ch] + momentum * var * unbias);
    }
  } else {
    mean = running_mean[ch];
    var = running_var[ch];
  }
  const double invstd = 1.0 / sqrt(var + eps);
  save_mean[ch] = static_cast<T>(mean);
  save_invstd[ch] = static_cast<T>(invstd);
  coef[ch] = static_cast<T>(invstd * (weight ? static_cast<double>(weight[ch]) : 1.0));
  coef[c + ch] = bias ? bias[ch] : T(0);
}

template <typename T>
__global__ void normalize_kernel(int64_t rows, int64_t c, const T* x, const T* mean,
                                 const double* coef, T* y) {
  for (int64_t i = detail::thread_index(); i < rows * c; i += detail::thread_count()) {
    const int64_t ch = i % c;
    y[i] = (x[i] - mean[ch]) * static_cast<T>(coef[ch]) + static_cast<T>(coef[c + ch]);
  }
}

// One thread per channel: gweight, gbias and the coefficients [scale, mean(gy), proj] of
// gx = (gy - mean(gy) - (x - mean) * proj) * scale (training) or gx = gy * scale (eval).
template <typename T>
__global__ void backward_finalize_kernel(int64_t rows, int64_t c, int64_t slabs,
                                         const double* partials, const T* weight, const T* invstd,
                                         T* gweight, T* gbias, double* coef) {
  const int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (ch >= c) return;
  double s1 = 0, s2 = 0;
  if (partials) slab_totals(slabs, c, ch, partials, s1, s2);
  const T pi = invstd[ch];
  if (gweight) gweight[ch] = static_cast<T>(s2 * pi);
  if (gbias) gbias[ch] = static_cast<T>(s1);
  const double n = static_cast<double>(rows);
  coef[ch] = static_cast<T>((weight ? weight[ch] : T(1)) * pi);
  coef[c + ch] = static_cast<T>(s1 / n);
  coef[2 * c + ch] = static_cast<T>(static_cast<double>(pi) * pi * s2 / n);
}

template <typename T>
__global__ void input_grad_kernel(int64_t rows, int64_t c, bool training, const T* gy, const T* x,
                                  const T* mean, const double* coef, T* gx) {
  for (int64_t i = detail::thread_index(); i < rows * c; i += detail::thread_count()) {
    const int64_t ch = i % c;
    const T a = static_cast<T>(coef[ch]);
    if (training) {
      const T gm = static_cast<T>(coef[c + ch]), pj = static_cast<T>(coef[2 * c + ch]);
      gx[i] = (gy[i] - gm - (x[i] - mean[ch]) * pj) * a;
    } else {
      gx[i] = gy[i] * a;
    }
  }
}

dim3 reduce_grid(int64_t rows, int64_t c) {
  return dim3(static_cast<unsigned>((c + 31) / 32), static_cast<unsigned>(slabs_of(rows)));
}

unsigned channel_blocks(int64_t c) {
  return static_cast<unsigned>((c + 127) / 128);
}

}  // namespace

int64_t batch_norm_workspace(int64_t rows, int64_t c) {
  return 2 * slabs_of(rows) * c + 3 * c;
}

cudaError_t batch_norm_forward(ScalarType type, int64_t rows, int64_t c, const void* x,
                               const void* weight, const void* bias, void* running_mean,
                               void* running_var, bool training, double momentum, double eps,
                               void* y, void* save_mean, void* save_invstd, double* workspace,
                               cudaStream_t stream) {
  if (c == 0) return cudaSuccess;
  const int64_t slabs = slabs_of(rows);
  double* partials = workspace;
  double* coef = workspace + 2 * slabs * c;
  return detail::with_float_type(type, [&]<typename T>() {
    if (training && slabs > 0) {
      moments_kernel<<<reduce_grid(rows, c), dim3(32, kRowGroups), 0, stream>>>(
          rows, c, rows_per_slab(rows), static_cast<const T*>(x), partials);
    }
    forward_finalize_kernel<<<channel_blocks(c), 128, 0, stream>>>(
        rows, c, slabs, partials, static_cast<const T*>(x), static_cast<const T*>(weight),
        static_cast<const T*>(bias), static_cast<T*>(running_mean), static_cast<T*>(running_var),
        training, momentum, eps, static_cast<T*>(save_mean), static_cast<T*>(save_invstd), coef);
    if (rows > 0) {
      normalize_kernel<<<grid_for(rows * c), detail::kThreads, 0, stream>>>(
          rows, c, static_cast<const T*>(x), static_cast<const T*>(save_mean), coef,
          static_cast<T*>(y));
    }
    return cudaGetLastError();
  });
}

cudaError_t batch_norm_backward(ScalarType type, int64_t rows, int64_t c, bool training,
                                const void* gy, const void* x, const void* weight, const void* mean,
                                const void* invstd, void* gx, void* gweight, void* gbias,
                                double* workspace, cudaStream_t stream) {
  if (c == 0) return cudaSuccess;
  const int64_t slabs = slabs_of(rows);
  double* partials = workspace;
  double* coef = workspace + 2 * slabs * c;
  const bool need_sums = training || gweight || gbias;
  return detail::with_float_type(type, [&]<typename T>() {
    if (need_sums && slabs > 0) {
      grad_sums_kernel<<<reduce_grid(rows, c), dim3(32, kRowGroups), 0, stream>>>(
          rows, c, rows_per_slab(rows), static_cast<const T*>(gy), static_cast<const T*>(x),
          static_cast<const T*>(mean), partials);
    }
    backward_finalize_kernel<<<channel_blocks(c), 128, 0, stream>>>(
        rows, c, slabs, need_sums ? partials : nullptr, static_cast<const T*>(weight),
        static_cast<const T*>(invstd), static_cast<T*>(gweight), static_cast<T*>(gbias), coef);
    if (gx && rows > 0) {
      input_grad_kernel<<<grid_for(rows * c), detail::kThreads, 0, stream>>>(
          rows, c, training, static_cast<const T*>(gy), static_cast<const T*>(x),
          static_cast<const T*>(mean), coef, static_cast<T*>(gx));
    }
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
