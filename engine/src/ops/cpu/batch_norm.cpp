// CPU kernels for per-channel batch norm over the last axis: a statistics pass and a normalising
// pass forward, a sums pass and a gradient pass backward.
#include "ops/cpu/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/nhwc_simd.h"

namespace fusenas::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements per parallel chunk

// Rows handled per channel chunk before moving to the next chunk: the block stays in L1 while
// each chunk's accumulators stay in registers. Sums run in T within a block (at most 32 terms,
// so float rounding stays ~1e-6 relative) and in double across blocks.
template <typename T>
int64_t block_rows(int64_t c) {
  return std::clamp<int64_t>(16384 / std::max<int64_t>(c * sizeof(T), 1), 4, 32);
}

// Both passes of each direction split rows the same way: one contiguous range per thread,
// thread p taking range p (parallel_for runs chunk p on thread p), so the second pass re-reads
// what the same core just read. It walks its range backwards, starting with the rows most
// likely still in that core's L2.
int64_t row_parts(int64_t rows, int64_t c) {
  return std::max<int64_t>(1, std::min<int64_t>({omp_get_max_threads(), rows * c / kGrain, rows}));
}

// Sums over rows: each range adds into its own zeroed slice of `width` doubles, then the slices
// are added in order. No races, and the result depends only on the thread count.
// body(row_begin, row_end, slice).
template <typename F>
std::vector<double> reduce_rows(int64_t rows, int64_t c, int64_t width, F&& body) {
  const int64_t parts = row_parts(rows, c);
  const int64_t stride = (width + 7) / 8 * 8;  // whole cache lines per slice
  std::vector<double> partial(parts * stride, 0.0);
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      body(rows * p / parts, rows * (p + 1) / parts, partial.data() + p * stride);
    }
  });
  std::vector<double> total(width, 0.0);
  for (int64_t p = 0; p < parts; ++p) {
    for (int64_t i = 0; i < width; ++i) total[i] += partial[p * stride + i];
  }
  return total;
}

// The second pass: fn(row_begin, row_end) over blocks of rows, each range walked backwards.
template <typename T, typename F>
void for_row_blocks_backwards(int64_t rows, int64_t c, F&& fn) {
  const int64_t parts = row_parts(rows, c);
  const int64_t block = block_rows<T>(c);
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const int64_t lo = rows * p / parts;
      for (int64_t hi = rows * (p + 1) / parts; hi > lo; hi -= block) {
        fn(std::max(lo, hi - block), hi);
      }
    }
  });
}

// s[c] += sum (x - pivot), s[C + c] += sum (x - pivot)^2 over rows [r0, r1). Shifting by a
// sample of the data keeps the one-pass variance free of cancellation when |mean| >> std.
// Adds K vectors of per-channel partial sums (in T) into double accumulators.
template <typename T, typename L, int K>
void fold(const L (&part)[K], double* s) {
  constexpr int64_t W = kWidth<L, T>;
  T flat[K * W];
  for (int k = 0; k < K; ++k) store(flat + k * W, part[k]);
  for (int64_t j = 0; j < K * W; ++j) s[j] += flat[j];
}

template <typename T>
void shifted_moments(const T* x, const T* pivot, int64_t c, int64_t r0, int64_t r1, double* s) {
  const int64_t block = block_rows<T>(c);
  for (int64_t rb = r0; rb < r1; rb += block) {
    const int64_t re = std::min(rb + block, r1);
    for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t k0) {
      constexpr int64_t W = kWidth<L, T>;
      L s1[K] = {}, s2[K] = {}, pv[K];
      for (int k = 0; k < K; ++k) pv[k] = load<L>(pivot + k0 + k * W);
      for (int64_t r = rb; r < re; ++r) {
        for (int k = 0; k < K; ++k) {
          const L d = load<L>(x + r * c + k0 + k * W) - pv[k];
          s1[k] += d;
          s2[k] += d * d;
        }
      }
      fold<T>(s1, s + k0);
      fold<T>(s2, s + c + k0);
    });
  }
}

// s[c] += sum dy, s[C + c] += sum dy * (x - mean) over rows [r0, r1); with kScaleDy also
// gx = dy * scale (the whole eval-mode input gradient, fused into the same pass).
template <typename T, bool kScaleDy>
void grad_sums(const T* gy, const T* x, const T* mean, const T* scale, T* gx, int64_t c, int64_t r0,
               int64_t r1, double* s) {
  const int64_t block = block_rows<T>(c);
  for (int64_t rb = r0; rb < r1; rb += block) {
    const int64_t re = std::min(rb + block, r1);
    for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t k0) {
      constexpr int64_t W = kWidth<L, T>;
      L s1[K] = {}, s2[K] = {}, m[K], a[K];
      for (int k = 0; k < K; ++k) {
        m[k] = load<L>(mean + k0 + k * W);
        if constexpr (kScaleDy) a[k] = load<L>(scale + k0 + k * W);
      }
      for (int64_t r = rb; r < re; ++r) {
        for (int k = 0; k < K; ++k) {
          const int64_t i = r * c + k0 + k * W;
          const L g = load<L>(gy + i);
          s1[k] += g;
          s2[k] += g * (load<L>(x + i) - m[k]);
          if constexpr (kScaleDy) store(gx + i, g * a[k]);
        }
      }
      fold<T>(s1, s + k0);
      fold<T>(s2, s + c + k0);
    });
  }
}

template <typename T>
void forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
             const Tensor& running_var, bool training, double momentum, double eps, const Tensor& y,
             const Tensor& save_mean, const Tensor& save_invstd) {
  const int64_t c = x.shape().back();
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  const T* px = x.data<T>();
  const T* w = weight.defined() ? weight.data<T>() : nullptr;
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  T* sm = save_mean.data<T>();
  T* si = save_invstd.data<T>();

  std::vector<double> mean(c), var(c);
  if (training) {
    const T* pivot = px;  // the first row
    const std::vector<double> s = reduce_rows(
        rows, c, 2 * c,
        [&](int64_t r0, int64_t r1, double* acc) { shifted_moments(px, pivot, c, r0, r1, acc); });
    const double n = static_cast<double>(rows);
    for (int64_t k = 0; k < c; ++k) {
      const double d = s[k] / n;
      mean[k] = static_cast<double>(pivot[k]) + d;
      var[k] = std::max(s[c + k] / n - d * d, 0.0);
    }
    if (running_mean.defined()) {
      T* rm = running_mean.data<T>();
      T* rv = running_var.data<T>();
      const double unbias = n / (n - 1);
      for (int64_t k = 0; k < c; ++k) {
        rm[k] = static_cast<T>((1 - momentum) * rm[k] + momentum * mean[k]);
        rv[k] = static_cast<T>((1 - momentum) * rv[k] + momentum * var[k] * unbias);
      }
    }
  } else {
    const T* rm = running_mean.data<T>();
    const T* rv = running_var.data<T>();
    for (int64_t k = 0; k < c; ++k) {
      mean[k] = rm[k];
      var[k] = rv[k];
    }
  }

  std::vector<T> scale(c), shift(c);
  for (int64_t k = 0; k < c; ++k) {
    const double invstd = 1.0 / std::sqrt(var[k] + eps);
    sm[k] = static_cast<T>(mean[k]);
    si[k] = static_cast<T>(invstd);
    scale[k] = static_cast<T>(invstd * (w ? static_cast<double>(w[k]) : 1.0));
    shift[k] = b ? b[k] : T(0);
  }
  T* py = y.data<T>();
  for_row_blocks_backwards<T>(rows, c, [&](int64_t r0, int64_t r1) {
    for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t k0) {
      constexpr int64_t W = kWidth<L, T>;
      L m[K], a[K], sh[K];
      for (int k = 0; k < K; ++k) {
        m[k] = load<L>(sm + k0 + k * W);
        a[k] = load<L>(scale.data() + k0 + k * W);
        sh[k] = load<L>(shift.data() + k0 + k * W);
      }
      for (int64_t r = r0; r < r1; ++r) {
        for (int k = 0; k < K; ++k) {
          const int64_t i = r * c + k0 + k * W;
          store(py + i, (load<L>(px + i) - m[k]) * a[k] + sh[k]);
        }
      }
    });
  });
}

template <typename T>
void backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
              const Tensor& mean, const Tensor& invstd, const Tensor& gx, const Tensor& gweight,
              const Tensor& gbias) {
  const int64_t c = x.shape().back();
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  const T* pgy = gy.data<T>();
  const T* px = x.data<T>();
  const T* w = weight.defined() ? weight.data<T>() : nullptr;
  const T* pm = mean.data<T>();
  const T* pi = invstd.data<T>();
  T* pgx = gx.defined() ? gx.data<T>() : nullptr;

  // d y / d xhat for each channel.
  std::vector<T> scale(c);
  for (int64_t k = 0; k < c; ++k) scale[k] = static_cast<T>((w ? w[k] : T(1)) * pi[k]);

  const bool need_sums = training || gweight.defined() || gbias.defined();
  std::vector<double> s;
  if (need_sums) {
    const bool fuse_gx = !training && pgx;
    s = reduce_rows(rows, c, 2 * c, [&](int64_t r0, int64_t r1, double* acc) {
      if (fuse_gx) {
        grad_sums<T, true>(pgy, px, pm, scale.data(), pgx, c, r0, r1, acc);
      } else {
        grad_sums<T, false>(pgy, px, pm, nullptr, nullptr, c, r0, r1, acc);
      }
    });
    if (gweight.defined()) {
      T* gw = gweight.data<T>();
      for (int64_t k = 0; k < c; ++k) gw[k] = static_cast<T>(s[c + k] * pi[k]);
    }
    if (gbias.defined()) {
      T* gb = gbias.data<T>();
      for (int64_t k = 0; k < c; ++k) gb[k] = static_cast<T>(s[k]);
    }
  }
  if (!pgx) return;
  if (!training) {
    if (need_sums) return;  // gx was written by the fused sums pass
    for_row_blocks_backwards<T>(rows, c, [&](int64_t r0, int64_t r1) {
      for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t k0) {
        constexpr int64_t W = kWidth<L, T>;
        L a[K];
        for (int k = 0; k < K; ++k) a[k] = load<L>(scale.data() + k0 + k * W);
        for (int64_t r = r0; r < r1; ++r) {
          for (int k = 0; k < K; ++k) {
            const int64_t i = r * c + k0 + k * W;
            store(pgx + i, load<L>(pgy + i) * a[k]);
          }
        }
      });
    });
    return;
  }
  // Training: gx = scale * (gy - mean(gy) - (x - mean) * invstd^2 * mean(gy * (x - mean))).
  const double n = static_cast<double>(rows);
  std::vector<T> gmean(c), proj(c);
  for (int64_t k = 0; k < c; ++k) {
    gmean[k] = static_cast<T>(s[k] / n);
    proj[k] = static_cast<T>(static_cast<double>(pi[k]) * pi[k] * s[c + k] / n);
  }
  for_row_blocks_backwards<T>(rows, c, [&](int64_t r0, int64_t r1) {
    for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t k0) {
      constexpr int64_t W = kWidth<L, T>;
      L m[K], a[K], gm[K], pj[K];
      for (int k = 0; k < K; ++k) {
        const int64_t j = k0 + k * W;
        m[k] = load<L>(pm + j);
        a[k] = load<L>(scale.data() + j);
        gm[k] = load<L>(gmean.data() + j);
        pj[k] = load<L>(proj.data() + j);
      }
      for (int64_t r = r0; r < r1; ++r) {
        for (int k = 0; k < K; ++k) {
          const int64_t i = r * c + k0 + k * W;
          store(pgx + i, (load<L>(pgy + i) - gm[k] - (load<L>(px + i) - m[k]) * pj[k]) * a[k]);
        }
      }
    });
  });
}

}  // namespace

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, bool training,
                        double momentum, double eps, const Tensor& y, const Tensor& save_mean,
                        const Tensor& save_invstd) {
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    forward<T>(x, weight, bias, running_mean, running_var, training, momentum, eps, y, save_mean,
               save_invstd);
  });
}

void batch_norm_backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& invstd, const Tensor& gx,
                         const Tensor& gweight, const Tensor& gbias) {
  dispatch_floating(x.dtype(), "batch_norm backward", [&]<typename T>() {
    backward<T>(training, gy, x, weight, mean, invstd, gx, gweight, gbias);
  });
}

}  // namespace fusenas::cpu
