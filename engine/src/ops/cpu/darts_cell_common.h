// Pieces shared by the CPU passes of the fused DARTS cell: view addressing, per-thread ranges with
// their partial sums, channel-count specialisation, and one sample's trip through an activation
// and a spatial stage (depthwise, subsample, pool).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "fusenas/kernels/darts_cell_plan.h"
#include "ops/cpu/conv2d_simd.h"

namespace fusenas::cpu::cell {

using namespace kernels::cell;

template <typename T>
T* at(const View& v, int64_t n, int64_t y, int64_t x) {
  return static_cast<T*>(v.data) + ((n * v.h + y) * v.w + x) * v.row;
}
template <typename T>
T* sample(const View& v, int64_t n) {
  return static_cast<T*>(v.data) + n * v.h * v.w * v.row;
}
template <typename T>
const T* ptr(const void* p) {
  return static_cast<const T*>(p);
}

inline double mix_value(const MixRef& m, const void* mix, bool f64) {
  if (m.index < 0) return m.fixed;
  return f64 ? static_cast<const double*>(mix)[m.index]
             : static_cast<double>(static_cast<const float*>(mix)[m.index]);
}

// Every helper below is inlined into the pass that calls it, so it is compiled for that pass's
// instruction set (each pass has an AVX2+FMA and a baseline entry point); lambdas handed to them
// carry FUSENAS_CELL_LAMBDA for the same reason.
#define FUSENAS_CELL_LAMBDA __attribute__((always_inline))

// Calls f(C) with C a compile-time channel count for the common widths (so loops over channels
// unroll and keep their accumulators in registers), else with the runtime count.
template <typename F>
FUSENAS_CONV_INLINE void with_channels(int64_t c, F&& f) {
#ifdef FUSENAS_SANITIZED
  // One instantiation per body: under ASan every inlined copy of the fused cell's kernels costs
  // minutes of compile time, and the sanitizer checks the same logic with a runtime count.
  return f(c);
#endif
  switch (c) {
    case 4:
      return f(std::integral_constant<int64_t, 4>{});
    case 8:
      return f(std::integral_constant<int64_t, 8>{});
    case 16:
      return f(std::integral_constant<int64_t, 16>{});
    case 32:
      return f(std::integral_constant<int64_t, 32>{});
    case 64:
      return f(std::integral_constant<int64_t, 64>{});
    default:
      return f(c);
  }
}

inline int range_count(int64_t n) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), n)));
}

// Splits [0, n) into range_count(n) contiguous ranges (fixed for a thread count, so sums made per
// range and added in range order are repeatable) and calls fn(range, begin, end) in parallel.
template <typename F>
void for_ranges(int64_t n, F&& fn) {
  if (n <= 0) return;
  const int ranges = range_count(n);
  if (ranges == 1 || omp_in_parallel()) {
    fn(0, int64_t{0}, n);
    return;
  }
#pragma omp parallel for num_threads(ranges) schedule(static, 1)
  for (int r = 0; r < ranges; ++r) fn(r, n * r / ranges, n * (r + 1) / ranges);
}

// Work over (item, sample) pairs: each range takes a slice of the batch for every item, so the
// ranges stay balanced however the items differ in cost, and fn(range, n0, n1) visits its items
// one after another (their scratch stays warm).
template <typename F>
void for_batch_ranges(int64_t batch, F&& fn) {
  for_ranges(batch, std::forward<F>(fn));
}

// Per-range double accumulators of `width` entries each, added in range order at the end.
class RangeSums {
 public:
  RangeSums(int ranges, int64_t width)
      : ranges_(ranges),
        width_(width),
        stride_((width + 7) / 8 * 8),
        data_(ranges * stride_, 0.0) {}
  double* range(int r) { return data_.data() + r * stride_; }
  std::vector<double> total() const {
    std::vector<double> t(width_, 0.0);
    for (int r = 0; r < ranges_; ++r)
      for (int64_t i = 0; i < width_; ++i) t[i] += data_[r * stride_ + i];
    return t;
  }

 private:
  int ranges_;
  int64_t width_, stride_;
  std::vector<double> data_;
};

// acc[c] += x[c] and acc2[c] += x[c]^2 in double, over `count` rows of `c` values.
template <typename T, typename CT>
FUSENAS_CONV_INLINE void add_moments(const T* x, int64_t rows, int64_t row_stride, CT c,
                                     double* acc) {
  // Blocks of 32 rows are summed in T (vectorised, ~1e-6 relative in float), then in double.
  constexpr int64_t kBlock = 32;
  T s1[256], s2[256];
  for (int64_t c0 = 0; c0 < c; c0 += 256) {
    const int64_t cn = c - c0 < 256 ? c - c0 : 256;
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
      const int64_t r1 = r0 + kBlock < rows ? r0 + kBlock : rows;
      for (int64_t ch = 0; ch < cn; ++ch) s1[ch] = s2[ch] = T(0);
      for (int64_t r = r0; r < r1; ++r) {
        const T* __restrict v = x + r * row_stride + c0;
#pragma omp simd
        for (int64_t ch = 0; ch < cn; ++ch) {
          s1[ch] += v[ch];
          s2[ch] += v[ch] * v[ch];
        }
      }
      for (int64_t ch = 0; ch < cn; ++ch) {
        acc[c0 + ch] += s1[ch];
        acc[c + c0 + ch] += s2[ch];
      }
    }
  }
}

// One sample's input through `act`, zero-padded by `pad`: [(h + 2p) x (w + 2p) x c]. Only the
// border is cleared; the interior is written once.
template <typename T, typename CT>
FUSENAS_CONV_INLINE void load_padded(const View& in, int64_t n, Act act, const Stats& st, int pad,
                                     CT c, std::vector<T>& buf) {
  const int64_t hp = in.h + 2 * pad, wp = in.w + 2 * pad;
  buf.resize(hp * wp * c);
  T* base = buf.data();
  std::fill(base, base + pad * wp * c, T(0));
  std::fill(base + (pad + in.h) * wp * c, base + hp * wp * c, T(0));
  const T* mean = ptr<T>(st.mean);
  const T* invstd = ptr<T>(st.invstd);
  for (int64_t y = 0; y < in.h; ++y) {
    T* row = base + (y + pad) * wp * c;
    std::fill(row, row + pad * c, T(0));
    std::fill(row + (pad + in.w) * c, row + wp * c, T(0));
    const T* src_row = at<T>(in, n, y, 0);
    for (int64_t x = 0; x < in.w; ++x) {
      const T* __restrict src = src_row + x * in.row;
      T* __restrict dst = row + (x + pad) * c;
      if (act == Act::BnRelu) {
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) {
          const T v = (src[ch] - mean[ch]) * invstd[ch];
          dst[ch] = v > T(0) ? v : T(0);
        }
      } else if (act == Act::Relu) {
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] = src[ch] > T(0) ? src[ch] : T(0);
      } else {
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] = src[ch];
      }
    }
  }
}

// With `flip`, tap (ky, kx) takes the weight of (k-1-ky, k-1-kx): the transposed convolution of a
// stride-1 depthwise stage is then a forward one over its padded gradient.
template <typename T>
void tap_major(const SpatialStage& s, int64_t c, std::vector<T>& taps, bool flip = false) {
  const int64_t kk = int64_t{s.k} * s.k;
  const T* w = ptr<T>(s.weight);
  taps.resize(kk * c);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t t = 0; t < kk; ++t) taps[(flip ? kk - 1 - t : t) * c + ch] = w[ch * kk + t];
}

// P adjacent output pixels of one row, U channel vectors each, summed over every tap in registers.
template <typename T, int U, int P>
FUSENAS_CONV_INLINE void depthwise_tile(const T* padded, int64_t wp, const T* taps,
                                        const SpatialStage& s, int64_t oy, int64_t ox, T* d,
                                        int64_t d_row, bool accumulate) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes, C = U * V;
  vec acc[P][U];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      acc[p][u] = vec{};
      if (accumulate) vload(acc[p][u], d + (ox + p) * d_row + u * V);
    }
  const int64_t k = s.k;
  for (int64_t ky = 0; ky < k; ++ky) {
    const T* row = padded + ((oy * s.stride + ky * s.dilation) * wp + ox * s.stride) * C;
    for (int64_t kx = 0; kx < k; ++kx) {
      const T* tap = taps + (ky * k + kx) * C;
      const T* src = row + kx * s.dilation * C;
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) {
        vec w;
        vload(w, tap + u * V);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          vec x;
          vload(x, src + p * s.stride * C + u * V);
          acc[p][u] += w * x;
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) vstore(d + (ox + p) * d_row + u * V, acc[p][u]);
}

// d [oh * ow, c] (+)= depthwise(padded input) with tap-major weights; rows of d are `d_row`
// apart. A compile-time channel count that fills whole vectors takes the register-tiled path.
template <typename T, typename CT>
FUSENAS_CONV_INLINE void depthwise_forward(const T* padded, int64_t wp, const T* taps,
                                           const SpatialStage& s, int64_t oh, int64_t ow, CT c,
                                           T* d, int64_t d_row, bool accumulate = false) {
  if constexpr (!std::is_integral_v<CT>) {
    constexpr int64_t V = Simd<T>::lanes, C = CT::value;
    if constexpr (C % V == 0 && C / V <= 8) {
      constexpr int U = static_cast<int>(C / V);
      constexpr int P = U >= 4 ? 2 : 4;
      for (int64_t oy = 0; oy < oh; ++oy) {
        T* drow = d + oy * ow * d_row;
        int64_t ox = 0;
        for (; ox + P <= ow; ox += P)
          depthwise_tile<T, U, P>(padded, wp, taps, s, oy, ox, drow, d_row, accumulate);
        for (; ox < ow; ++ox)
          depthwise_tile<T, U, 1>(padded, wp, taps, s, oy, ox, drow, d_row, accumulate);
      }
      return;
    }
  }
  const int64_t k = s.k;
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ++ox) {
      T* __restrict dst = d + (oy * ow + ox) * d_row;
      if (!accumulate)
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] = T(0);
      for (int64_t ky = 0; ky < k; ++ky) {
        const T* row = padded + ((oy * s.stride + ky * s.dilation) * wp + ox * s.stride) * c;
        for (int64_t kx = 0; kx < k; ++kx) {
          const T* __restrict src = row + kx * s.dilation * c;
          const T* __restrict tw = taps + (ky * k + kx) * c;
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) dst[ch] += src[ch] * tw[ch];
        }
      }
    }
  }
}

// taps[t, :c] = sum over output pixels q of gd[q] * padded[window(q) at tap t]: one sample's
// depthwise weight gradient (tap-major), a tap at a time so its sum stays in registers.
template <typename T, typename CT>
FUSENAS_CONV_INLINE void depthwise_weight_grad(const T* padded, int64_t wp, const T* gd,
                                               int64_t gd_row, const SpatialStage& s, int64_t oh,
                                               int64_t ow, CT c, T* taps) {
  const int64_t k = s.k;
  if constexpr (!std::is_integral_v<CT>) {
    using vec = typename Simd<T>::vec;
    constexpr int64_t V = Simd<T>::lanes, C = CT::value;
    if constexpr (C % V == 0 && C / V <= 2) {
      constexpr int U = static_cast<int>(C / V);
      // A row of taps (one ky) at a time: each gradient vector is loaded once for its k taps,
      // whose sums stay in registers over every output pixel.
      auto row_of_taps = [&]<int K>(int64_t ky) FUSENAS_CELL_LAMBDA {
        vec acc[K][U];
#pragma GCC unroll 8
        for (int kx = 0; kx < K; ++kx)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) acc[kx][u] = vec{};
        for (int64_t oy = 0; oy < oh; ++oy) {
          const T* row = padded + (oy * s.stride + ky * s.dilation) * wp * C;
          const T* g = gd + oy * ow * gd_row;
          for (int64_t ox = 0; ox < ow; ++ox) {
            const T* src = row + ox * s.stride * C;
#pragma GCC unroll 8
            for (int u = 0; u < U; ++u) {
              vec gv;
              vload(gv, g + ox * gd_row + u * V);
#pragma GCC unroll 8
              for (int kx = 0; kx < K; ++kx) {
                vec x;
                vload(x, src + kx * s.dilation * C + u * V);
                acc[kx][u] += gv * x;
              }
            }
          }
        }
#pragma GCC unroll 8
        for (int kx = 0; kx < K; ++kx)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vstore(taps + (ky * K + kx) * C + u * V, acc[kx][u]);
      };
      if (k == 3 || k == 5 || k == 7) {
        for (int64_t ky = 0; ky < k; ++ky) {
          if (k == 3) {
            row_of_taps.template operator()<3>(ky);
          } else if (k == 5) {
            row_of_taps.template operator()<5>(ky);
          } else {
            row_of_taps.template operator()<7>(ky);
          }
        }
        return;
      }
    }
    if constexpr (C % V == 0 && C / V <= 8) {
      constexpr int U = static_cast<int>(C / V);
      for (int64_t t = 0; t < k * k; ++t) {
        const int64_t ky = t / k, kx = t % k;
        // Two accumulator sets (even and odd pixels) hide the FMA latency.
        vec even[U], odd[U];
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u) even[u] = odd[u] = vec{};
        const int64_t step = s.stride * C;
        for (int64_t oy = 0; oy < oh; ++oy) {
          const T* src = padded + ((oy * s.stride + ky * s.dilation) * wp + kx * s.dilation) * C;
          const T* g = gd + oy * ow * gd_row;
          int64_t ox = 0;
          for (; ox + 2 <= ow; ox += 2, src += 2 * step, g += 2 * gd_row) {
#pragma GCC unroll 8
            for (int u = 0; u < U; ++u) {
              vec x0, g0, x1, g1;
              vload(x0, src + u * V);
              vload(g0, g + u * V);
              vload(x1, src + step + u * V);
              vload(g1, g + gd_row + u * V);
              even[u] += x0 * g0;
              odd[u] += x1 * g1;
            }
          }
          if (ox < ow) {
#pragma GCC unroll 8
            for (int u = 0; u < U; ++u) {
              vec x0, g0;
              vload(x0, src + u * V);
              vload(g0, g + u * V);
              even[u] += x0 * g0;
            }
          }
        }
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u) vstore(taps + t * C + u * V, even[u] + odd[u]);
      }
      return;
    }
  }
  for (int64_t t = 0; t < k * k; ++t)
    for (int64_t ch = 0; ch < c; ++ch) taps[t * c + ch] = T(0);
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t ox = 0; ox < ow; ++ox) {
      const T* __restrict g = gd + (oy * ow + ox) * gd_row;
      for (int64_t ky = 0; ky < k; ++ky) {
        const T* row = padded + ((oy * s.stride + ky * s.dilation) * wp + ox * s.stride) * c;
        for (int64_t kx = 0; kx < k; ++kx) {
          const T* __restrict src = row + kx * s.dilation * c;
          T* __restrict tap = taps + (ky * k + kx) * c;
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) tap[ch] += g[ch] * src[ch];
        }
      }
    }
}

// The 3x3, padding-1 pool window of output (oy, ox) at `stride`, clipped to the image.
struct Window {
  int64_t y0, y1, x0, x1;
  int64_t count() const { return (y1 - y0) * (x1 - x0); }
};
inline Window pool_window(int64_t oy, int64_t ox, int64_t stride, int64_t h, int64_t w) {
  const int64_t ys = oy * stride - 1, xs = ox * stride - 1;
  return {std::max<int64_t>(ys, 0), std::min<int64_t>(ys + 3, h), std::max<int64_t>(xs, 0),
          std::min<int64_t>(xs + 3, w)};
}

// d [oh * ow, c] = 3x3 pool of sample n (max: the first maximum in scan order, as the engine's
// max_pool2d; average over the taps inside the image).
template <typename T, bool kMax, typename CT>
FUSENAS_CONV_INLINE void pool_forward_kind(const View& in, int64_t n, int64_t stride, int64_t oh,
                                           int64_t ow, CT c, T* d) {
  const T* base = sample<T>(in, n);
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ++ox) {
      const Window win = pool_window(oy, ox, stride, in.h, in.w);
      T* __restrict dst = d + (oy * ow + ox) * c;
      const T* first = base + (win.y0 * in.w + win.x0) * in.row;
      for (int64_t ch = 0; ch < c; ++ch) dst[ch] = kMax ? first[ch] : T(0);
      for (int64_t y = win.y0; y < win.y1; ++y) {
        for (int64_t x = win.x0; x < win.x1; ++x) {
          const T* __restrict src = base + (y * in.w + x) * in.row;
          if constexpr (kMax) {
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) dst[ch] = src[ch] > dst[ch] ? src[ch] : dst[ch];
          } else {
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) dst[ch] += src[ch];
          }
        }
      }
      if constexpr (!kMax) {
        const T inv = T(1) / static_cast<T>(win.count());
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] *= inv;
      }
    }
  }
}

template <typename T, typename CT>
FUSENAS_CONV_INLINE void pool_forward(const View& in, int64_t n, bool max, int64_t stride,
                                      int64_t oh, int64_t ow, CT c, T* d) {
  if (max) {
    pool_forward_kind<T, true>(in, n, stride, oh, ow, c, d);
  } else {
    pool_forward_kind<T, false>(in, n, stride, oh, ow, c, d);
  }
}

// Per-launch copies of each chain's weights in the layouts the loops want (tap-major depthwise,
// input-major pointwise), and the padding that covers every depthwise chain reading the same
// activated input, so one padded copy per sample serves them all.
template <typename T>
struct ChainPrep {
  std::vector<std::vector<T>> taps, pwt;
  std::vector<int> max_pad;
  std::vector<int> order;  // the chains grouped by the input they read, for visiting in turn

  template <typename Chain>
  ChainPrep(const Chain* chains, int count)
      : taps(count), pwt(count), max_pad(count, 0), order(count) {
    for (int p = 0; p < count; ++p) order[p] = p;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return std::make_pair(chains[a].in.data, static_cast<int>(chains[a].act)) <
             std::make_pair(chains[b].in.data, static_cast<int>(chains[b].act));
    });
    for (int p = 0; p < count; ++p) {
      const Chain& ch = chains[p];
      if (ch.spatial.kind == Spatial::Depthwise) tap_major<T>(ch.spatial, ch.in.c, taps[p]);
      if (ch.pw != nullptr) {
        const T* w = ptr<T>(ch.pw);
        const int64_t cin = ch.in.c, cout = ch.cout;
        pwt[p].resize(cin * cout);
        for (int64_t o = 0; o < cout; ++o)
          for (int64_t i = 0; i < cin; ++i) pwt[p][i * cout + o] = w[o * cin + i];
      }
      if (ch.spatial.kind != Spatial::Depthwise) continue;
      for (int q = 0; q < count; ++q) {
        const Chain& other = chains[q];
        if (other.spatial.kind == Spatial::Depthwise && other.in.data == ch.in.data &&
            other.act == ch.act)
          max_pad[p] = std::max(max_pad[p], other.spatial.pad);
      }
    }
  }
};

// Scratch a range keeps across its items.
template <typename T>
struct Scratch {
  std::vector<T> padded, taps, d, a, b, coef;
  // Which chain's depthwise weights `taps` and coefficients `coef` hold (kNone: none yet).
  static constexpr int kNone = std::numeric_limits<int>::min();
  int taps_of = kNone;
  int coef_of = kNone;
  // What `padded` holds: this sample of this input through this activation, with this padding.
  const void* padded_src = nullptr;
  int64_t padded_n = -1;
  Act padded_act = Act::None;
  int padded_pad = -1;
};

// The sample's activated input padded by `max_pad` (reused when scratch already holds it), and a
// pointer that addresses it as if padded by `pad`; `wp` gets the padded row width.
template <typename T, typename CT>
FUSENAS_CONV_INLINE const T* padded_input(Scratch<T>& sc, const View& in, int64_t n, Act act,
                                          const Stats& st, int pad, int max_pad, CT c,
                                          int64_t& wp) {
  if (sc.padded_src != in.data || sc.padded_n != n || sc.padded_act != act ||
      sc.padded_pad != max_pad) {
    load_padded<T>(in, n, act, st, max_pad, c, sc.padded);
    sc.padded_src = in.data;
    sc.padded_n = n;
    sc.padded_act = act;
    sc.padded_pad = max_pad;
  }
  wp = in.w + 2 * max_pad;
  const int64_t shift = max_pad - pad;
  return sc.padded.data() + (shift * wp + shift) * c;
}

#ifdef FUSENAS_SANITIZED
constexpr bool kCellSanitized = true;  // the AVX2 copy is never instantiated (see with_channels)
#else
constexpr bool kCellSanitized = false;
#endif

// Calls range_avx2(args...) where the CPU has AVX2 and FMA, else range_base(args...): the two
// instantiations of one always-inline range body.
#define FUSENAS_CELL_RANGE_ENTRY(body)              \
  template <typename T, typename... A>              \
  FUSENAS_CONV_AVX2 void body##_avx2(A&&... args) { \
    body<T>(std::forward<A>(args)...);              \
  }                                                 \
  template <typename T, typename... A>              \
  void body##_base(A&&... args) {                   \
    body<T>(std::forward<A>(args)...);              \
  }                                                 \
  template <typename T, typename... A>              \
  void body##_any(A&&... args) {                    \
    if constexpr (!kCellSanitized) {                \
      if (use_avx2()) {                             \
        body##_avx2<T>(std::forward<A>(args)...);   \
        return;                                     \
      }                                             \
    }                                               \
    body##_base<T>(std::forward<A>(args)...);       \
  }

// One sample's spatial-stage output d [oh * ow, c] of chain p; scratch keeps its padded input.
template <typename T, typename Chain>
FUSENAS_CONV_INLINE void spatial_forward(const Chain& ch, const ChainPrep<T>& prep, int p,
                                         int64_t n, Scratch<T>& sc, T* d) {
  const View& in = ch.in;
  const SpatialStage& s = ch.spatial;
  const int64_t oh = ch.out.h, ow = ch.out.w;
  with_channels(in.c, [&](auto c) FUSENAS_CELL_LAMBDA {
    switch (s.kind) {
      case Spatial::Depthwise: {
        int64_t wp = 0;
        const T* padded =
            padded_input<T>(sc, in, n, ch.act, ch.act_stats, s.pad, prep.max_pad[p], c, wp);
        depthwise_forward<T>(padded, wp, prep.taps[p].data(), s, oh, ow, c, d, c);
        return;
      }
      case Spatial::Subsample: {
        const T* mean = ptr<T>(ch.act_stats.mean);
        const T* invstd = ptr<T>(ch.act_stats.invstd);
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const T* __restrict src =
                at<T>(in, n, oy * s.stride + s.offset, ox * s.stride + s.offset);
            T* __restrict dst = d + (oy * ow + ox) * c;
            if (ch.act == Act::Relu) {
#pragma omp simd
              for (int64_t k = 0; k < c; ++k) dst[k] = src[k] > T(0) ? src[k] : T(0);
            } else if (ch.act == Act::BnRelu) {
#pragma omp simd
              for (int64_t k = 0; k < c; ++k) {
                const T v = (src[k] - mean[k]) * invstd[k];
                dst[k] = v > T(0) ? v : T(0);
              }
            } else {
              for (int64_t k = 0; k < c; ++k) dst[k] = src[k];
            }
          }
        return;
      }
      case Spatial::MaxPool:
      case Spatial::AvgPool:
        pool_forward<T>(in, n, s.kind == Spatial::MaxPool, s.stride, oh, ow, c, d);
        return;
    }
  });
}

}  // namespace fusenas::cpu::cell

namespace fusenas::cpu::cell {

// y[r, :cout] = sum_i x[r, i] * wt[i, :cout] for `rows` rows: a 1x1 convolution over one sample
// with the weights input-major ([cin, cout]). Small enough per call that a BLAS call costs more
// than the arithmetic; a compile-time cout of whole vectors keeps R rows' sums in registers.
template <typename T, typename CO>
FUSENAS_CONV_INLINE void pointwise(const T* x, int64_t rows, int64_t x_row, const T* wt,
                                   int64_t cin, CO cout, T* y, int64_t y_row) {
  if constexpr (!std::is_integral_v<CO>) {
    using vec = typename Simd<T>::vec;
    constexpr int64_t V = Simd<T>::lanes, C = CO::value;
    if constexpr (C % V == 0 && C / V <= 8) {
      constexpr int U = static_cast<int>(C / V);
      constexpr int R = U <= 2 ? 4 : U <= 4 ? 2 : 1;
      int64_t r = 0;
      auto block = [&]<int RR>(int64_t r0) FUSENAS_CELL_LAMBDA {
        vec acc[RR][U];
#pragma GCC unroll 8
        for (int q = 0; q < RR; ++q)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) acc[q][u] = vec{};
        for (int64_t i = 0; i < cin; ++i) {
          vec w[U];
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vload(w[u], wt + i * C + u * V);
#pragma GCC unroll 8
          for (int q = 0; q < RR; ++q) {
            const vec b = vec{} + x[(r0 + q) * x_row + i];
#pragma GCC unroll 8
            for (int u = 0; u < U; ++u) acc[q][u] += b * w[u];
          }
        }
#pragma GCC unroll 8
        for (int q = 0; q < RR; ++q)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vstore(y + (r0 + q) * y_row + u * V, acc[q][u]);
      };
      for (; r + R <= rows; r += R) block.template operator()<R>(r);
      for (; r < rows; ++r) block.template operator()<1>(r);
      return;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * x_row;
    T* __restrict yr = y + r * y_row;
    for (int64_t co = 0; co < cout; ++co) yr[co] = T(0);
    for (int64_t i = 0; i < cin; ++i) {
      const T v = xr[i];
      const T* __restrict w = wt + i * cout;
#pragma omp simd
      for (int64_t co = 0; co < cout; ++co) yr[co] += v * w[co];
    }
  }
}

// acc[o, :cin] += sum_r g[r, o] * x[r, :cin]: a 1x1 convolution's weight gradient over one sample.
// With a compile-time cin of whole vectors, four outputs' sums at a time stay in registers over
// all rows.
template <typename T, typename CI>
FUSENAS_CONV_INLINE void pointwise_weight_grad(const T* g, int64_t rows, int64_t g_row,
                                               int64_t cout, const T* x, int64_t x_row, CI cin,
                                               T* acc) {
  if constexpr (!std::is_integral_v<CI>) {
    using vec = typename Simd<T>::vec;
    constexpr int64_t V = Simd<T>::lanes, C = CI::value;
    if constexpr (C % V == 0 && C / V <= 4) {
      constexpr int U = static_cast<int>(C / V);
      constexpr int O = 4;
      auto block = [&]<int OO>(int64_t o0) FUSENAS_CELL_LAMBDA {
        vec a[OO][U];
#pragma GCC unroll 8
        for (int q = 0; q < OO; ++q)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vload(a[q][u], acc + (o0 + q) * C + u * V);
        for (int64_t r = 0; r < rows; ++r) {
          vec xv[U];
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vload(xv[u], x + r * x_row + u * V);
#pragma GCC unroll 8
          for (int q = 0; q < OO; ++q) {
            const vec b = vec{} + g[r * g_row + o0 + q];
#pragma GCC unroll 8
            for (int u = 0; u < U; ++u) a[q][u] += b * xv[u];
          }
        }
#pragma GCC unroll 8
        for (int q = 0; q < OO; ++q)
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u) vstore(acc + (o0 + q) * C + u * V, a[q][u]);
      };
      int64_t o = 0;
      for (; o + O <= cout; o += O) block.template operator()<O>(o);
      for (; o < cout; ++o) block.template operator()<1>(o);
      return;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict gr = g + r * g_row;
    const T* __restrict xr = x + r * x_row;
    for (int64_t o = 0; o < cout; ++o) {
      const T v = gr[o];
      T* __restrict a = acc + o * cin;
#pragma omp simd
      for (int64_t i = 0; i < cin; ++i) a[i] += v * xr[i];
    }
  }
}

}  // namespace fusenas::cpu::cell
