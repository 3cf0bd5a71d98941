// Depthwise conv2d on the CPU (one filter per channel, optionally a channel multiplier): direct
// loops vectorised over the contiguous NHWC channel axis, with AVX2+FMA code picked at run time.
#include <omp.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/conv2d.h"
#include "ops/cpu/conv2d_simd.h"

namespace fusenas::cpu {
namespace {

// Geometry of one depthwise pass: input [n, h, w, c] -> output [n, ho, wo, c]; the filter is
// stored tap-major [kh, kw, c] so a tap's weights for consecutive channels are contiguous.
struct Dw {
  int64_t n, h, w, c, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
};

// Sums the taps of a P x U tile of outputs, P horizontally adjacent pixels by U consecutive
// channel vectors, in P*U independent accumulators (enough of them to hide the FMA latency), and
// stores it. x and w point at the first valid tap (ni rows by nj columns of taps) of the tile's
// first pixel and channel, bias (or null) and y at that pixel's channels.
template <typename T, int P, int U>
FUSENAS_CONV_INLINE void fwd_tile(const Dw& g, const T* x, const T* w, const T* bias, T* y,
                                  int64_t ni, int64_t nj) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c, xp_step = g.sw * C;
  vec acc[P][U];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) {
    vec b = {};
    if (bias) vload(b, bias + u * V);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) acc[p][u] = b;
  }
  const int64_t xi = g.dh * g.w * C, xj = g.dw * C, wi = g.kw * C;
  for (int64_t i = 0; i < ni; ++i, x += xi, w += wi) {
    const T* xt = x;
    const T* wt = w;
    for (int64_t j = 0; j < nj; ++j, xt += xj, wt += C) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        vec wv;
        vload(wv, wt + u * V);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          vec xv;
          vload(xv, xt + p * xp_step + u * V);
          acc[p][u] += wv * xv;
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) vstore(y + p * C + u * V, acc[p][u]);
  }
}

// Channels [c0, C) of one output pixel, one at a time (the tail that fills no vector).
template <typename T>
FUSENAS_CONV_INLINE void fwd_scalar(const Dw& g, const T* x, const T* w, const T* bias, T* y,
                                    int64_t ni, int64_t nj, int64_t c0) {
  const int64_t C = g.c, xi = g.dh * g.w * C, xj = g.dw * C, wi = g.kw * C;
  for (int64_t c = c0; c < C; ++c) {
    T acc = bias ? bias[c] : T(0);
    for (int64_t i = 0; i < ni; ++i) {
      for (int64_t j = 0; j < nj; ++j) acc += w[i * wi + j * C + c] * x[i * xi + j * xj + c];
    }
    y[c] = acc;
  }
}

// Output rows [r0, r1) of n*ho. Runs of outputs with the same tap columns go four (or two)
// pixels by two channel vectors at a time; lone outputs whose window crosses the left or right
// padding one pixel by up to eight vectors.
template <typename T>
FUSENAS_CONV_INLINE void fwd_rows(const Dw& g, const T* x, const T* wt, const T* bias, T* y,
                                  int64_t r0, int64_t r1) {
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c;
  int64_t wlo, whi;
  conv_interior(g.wo, g.w, g.kw, g.sw, g.pw, g.dw, wlo, whi);
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.ho, ho = r % g.ho, hb = ho * g.sh - g.ph;
    int64_t i0, i1;
    conv_tap_range(hb, g.kh, g.dh, g.h, i0, i1);
    const int64_t ni = i1 - i0;
    const T* xr = x + (n * g.h + (ni > 0 ? hb + i0 * g.dh : 0)) * g.w * C;  // first tap row
    const T* wr = wt + i0 * g.kw * C;
    T* yr = y + r * g.wo * C;
    for (int64_t wo = 0; wo < g.wo;) {
      const int64_t wb = wo * g.sw - g.pw;
      T* yp = yr + wo * C;
      int64_t j0, j1;
      conv_tap_range(wb, g.kw, g.dw, g.w, j0, j1);
      // Neighbours that read the same tap columns (the whole interior, and pairs at the edges of
      // dilated windows) share weight loads as pixel tiles.
      int64_t run = 1;
      if (wo >= wlo && wo < whi) {
        run = std::min<int64_t>(4, whi - wo);
      } else {
        while (run < 4 && wo + run < g.wo) {
          int64_t a0, a1;
          conv_tap_range(wb + run * g.sw, g.kw, g.dw, g.w, a0, a1);
          if (a0 != j0 || a1 != j1) break;
          ++run;
        }
      }
      if (run >= 2) {
        const int64_t p = run >= 4 ? 4 : 2, nj = j1 - j0;
        const T* xp = xr + (nj > 0 ? wb + j0 * g.dw : 0) * C;
        const T* wp = wr + j0 * C;
        int64_t c = 0;
        for (; c + 2 * V <= C; c += 2 * V) {
          const T* bp = bias ? bias + c : nullptr;
          if (p == 4) {
            fwd_tile<T, 4, 2>(g, xp + c, wp + c, bp, yp + c, ni, nj);
          } else {
            fwd_tile<T, 2, 2>(g, xp + c, wp + c, bp, yp + c, ni, nj);
          }
        }
        for (; c + V <= C; c += V) {
          const T* bp = bias ? bias + c : nullptr;
          if (p == 4) {
            fwd_tile<T, 4, 1>(g, xp + c, wp + c, bp, yp + c, ni, nj);
          } else {
            fwd_tile<T, 2, 1>(g, xp + c, wp + c, bp, yp + c, ni, nj);
          }
        }
        for (int64_t k = 0; k < p && c < C; ++k) {
          fwd_scalar(g, xp + k * g.sw * C, wp, bias, yp + k * C, ni, nj, c);
        }
        wo += p;
        continue;
      }
      const int64_t nj = j1 - j0;
      const T* xp = xr + (nj > 0 ? wb + j0 * g.dw : 0) * C;
      const T* wp = wr + j0 * C;
      int64_t c = 0;
      for (; c + 8 * V <= C; c += 8 * V) {
        fwd_tile<T, 1, 8>(g, xp + c, wp + c, bias ? bias + c : nullptr, yp + c, ni, nj);
      }
      for (; c + 4 * V <= C; c += 4 * V) {
        fwd_tile<T, 1, 4>(g, xp + c, wp + c, bias ? bias + c : nullptr, yp + c, ni, nj);
      }
      for (; c + V <= C; c += V) {
        fwd_tile<T, 1, 1>(g, xp + c, wp + c, bias ? bias + c : nullptr, yp + c, ni, nj);
      }
      fwd_scalar(g, xp, wp, bias, yp, ni, nj, c);
      ++wo;
    }
  }
}

// gx rows [r0, r1) of n*h in gather form, for any stride: each input pixel sums the outputs whose
// windows read it, four channel vectors at a time.
template <typename T>
FUSENAS_CONV_INLINE void bwd_input_rows(const Dw& g, const ConvTapIndex& rows,
                                        const ConvTapIndex& cols, const T* gy, const T* wt, T* gx,
                                        int64_t r0, int64_t r1) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.h, hi = r % g.h;
    const T* gyn = gy + n * g.ho * g.wo * C;
    const int64_t a0 = rows.start[hi], a1 = rows.start[hi + 1];
    for (int64_t wi = 0; wi < g.w; ++wi) {
      T* dst = gx + (r * g.w + wi) * C;
      const int64_t b0 = cols.start[wi], b1 = cols.start[wi + 1];
      int64_t c = 0;
      for (; c + 4 * V <= C; c += 4 * V) {
        vec s0 = {}, s1 = {}, s2 = {}, s3 = {}, wv, gv;
        for (int64_t a = a0; a < a1; ++a) {
          const T* gr = gyn + rows.out[a] * g.wo * C + c;
          const T* wr = wt + rows.tap[a] * g.kw * C + c;
          for (int64_t b = b0; b < b1; ++b) {
            const T* wp = wr + cols.tap[b] * C;
            const T* gp = gr + cols.out[b] * C;
            vload(wv, wp);
            vload(gv, gp);
            s0 += wv * gv;
            vload(wv, wp + V);
            vload(gv, gp + V);
            s1 += wv * gv;
            vload(wv, wp + 2 * V);
            vload(gv, gp + 2 * V);
            s2 += wv * gv;
            vload(wv, wp + 3 * V);
            vload(gv, gp + 3 * V);
            s3 += wv * gv;
          }
        }
        vstore(dst + c, s0);
        vstore(dst + c + V, s1);
        vstore(dst + c + 2 * V, s2);
        vstore(dst + c + 3 * V, s3);
      }
      for (; c + V <= C; c += V) {
        vec s = {}, wv, gv;
        for (int64_t a = a0; a < a1; ++a) {
          const T* gr = gyn + rows.out[a] * g.wo * C + c;
          const T* wr = wt + rows.tap[a] * g.kw * C + c;
          for (int64_t b = b0; b < b1; ++b) {
            vload(wv, wr + cols.tap[b] * C);
            vload(gv, gr + cols.out[b] * C);
            s += wv * gv;
          }
        }
        vstore(dst + c, s);
      }
      for (; c < C; ++c) {
        T s = 0;
        for (int64_t a = a0; a < a1; ++a) {
          for (int64_t b = b0; b < b1; ++b) {
            s += wt[(rows.tap[a] * g.kw + cols.tap[b]) * C + c] *
                 gyn[(rows.out[a] * g.wo + cols.out[b]) * C + c];
          }
        }
        dst[c] = s;
      }
    }
  }
}

// Adds sum over k < count of gy[k] * x[k * sw] into p for channels [0, nc): four channel vectors
// in flight so the FMA chains overlap. gy and x point at the first output's and its tap's pixel.
template <typename T>
FUSENAS_CONV_INLINE void weight_span(const Dw& g, int64_t nc, const T* gy, const T* x, T* p,
                                     int64_t count) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c, xs = g.sw * C;
  if (count <= 0) return;
  int64_t c = 0;
  for (; c + 4 * V <= nc; c += 4 * V) {
    vec s0, s1, s2, s3, gv, xv;
    vload(s0, p + c);
    vload(s1, p + c + V);
    vload(s2, p + c + 2 * V);
    vload(s3, p + c + 3 * V);
    for (int64_t k = 0; k < count; ++k) {
      const T* gp = gy + k * C + c;
      const T* xp = x + k * xs + c;
      vload(gv, gp);
      vload(xv, xp);
      s0 += gv * xv;
      vload(gv, gp + V);
      vload(xv, xp + V);
      s1 += gv * xv;
      vload(gv, gp + 2 * V);
      vload(xv, xp + 2 * V);
      s2 += gv * xv;
      vload(gv, gp + 3 * V);
      vload(xv, xp + 3 * V);
      s3 += gv * xv;
    }
    vstore(p + c, s0);
    vstore(p + c + V, s1);
    vstore(p + c + 2 * V, s2);
    vstore(p + c + 3 * V, s3);
  }
  for (; c + V <= nc; c += V) {
    vec s, gv, xv;
    vload(s, p + c);
    for (int64_t k = 0; k < count; ++k) {
      vload(gv, gy + k * C + c);
      vload(xv, x + k * xs + c);
      s += gv * xv;
    }
    vstore(p + c, s);
  }
  for (; c < nc; ++c) {
    T s = p[c];
    for (int64_t k = 0; k < count; ++k) s += gy[k * C + c] * x[k * xs + c];
    p[c] = s;
  }
}

// U channel vectors from channel 0 of `count` interior outputs, for all KW horizontal taps at
// once: KW x U register accumulators, so each gy load feeds KW FMAs. gy points at the first
// output, x at its window's first tap, p at the part row of tap (i, 0).
template <typename T, int KW, int U>
FUSENAS_CONV_INLINE void weight_block(const Dw& g, const T* gy, const T* x, T* p, int64_t count) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c, xs = g.sw * C, xj = g.dw * C;
  vec acc[KW][U] = {};
  for (int64_t k = 0; k < count; ++k, gy += C, x += xs) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      vec gv;
      vload(gv, gy + u * V);
#pragma GCC unroll 8
      for (int j = 0; j < KW; ++j) {
        vec xv;
        vload(xv, x + j * xj + u * V);
        acc[j][u] += gv * xv;
      }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < KW; ++j) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      vec pv;
      vload(pv, p + j * C + u * V);
      vstore(p + j * C + u * V, pv + acc[j][u]);
    }
  }
}

// Adds the weight-gradient sums of output rows [r0, r1) of n*ho into part [kh, kw, c]. For
// KW > 0 (== kw) the interior outputs run through weight_block with U channel vectors per pass;
// everything else (edges, leftover channels, other widths) through weight_span per tap.
template <typename T, int KW, int U>
FUSENAS_CONV_INLINE void bwd_weight_rows(const Dw& g, const T* gy, const T* x, T* part, int64_t r0,
                                         int64_t r1) {
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c;
  int64_t wlo, whi;
  conv_interior(g.wo, g.w, g.kw, g.sw, g.pw, g.dw, wlo, whi);
  if (KW == 0) whi = wlo;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.ho, ho = r % g.ho, hb = ho * g.sh - g.ph;
    int64_t i0, i1;
    conv_tap_range(hb, g.kh, g.dh, g.h, i0, i1);
    const T* gyr = gy + r * g.wo * C;
    for (int64_t i = i0; i < i1; ++i) {
      const T* xr = x + (n * g.h + hb + i * g.dh) * g.w * C;
      T* pr = part + i * g.kw * C;
      int64_t c = 0;
      if constexpr (KW > 0) {
        if (whi > wlo) {
          const T* gp = gyr + wlo * C;
          const T* xp = xr + (wlo * g.sw - g.pw) * C;
          for (; c + U * V <= C; c += U * V) {
            weight_block<T, KW, U>(g, gp + c, xp + c, pr + c, whi - wlo);
          }
          if constexpr (U > 2) {
            for (; c + 2 * V <= C; c += 2 * V) {
              weight_block<T, KW, 2>(g, gp + c, xp + c, pr + c, whi - wlo);
            }
          }
          if constexpr (U > 1) {
            for (; c + V <= C; c += V) weight_block<T, KW, 1>(g, gp + c, xp + c, pr + c, whi - wlo);
          }
          for (int64_t j = 0; j < g.kw; ++j) {
            weight_span(g, C - c, gp + c, xp + j * g.dw * C + c, pr + j * C + c, whi - wlo);
          }
        }
      }
      for (int64_t j = 0; j < g.kw; ++j) {
        // Outputs whose tap j lands inside the row, less the interior done above.
        const int64_t off = j * g.dw - g.pw;
        int64_t v0, v1;
        conv_tap_range(off, g.wo, g.sw, g.w, v0, v1);
        const int64_t e0 = std::min(v1, wlo), e1 = std::max(v0, whi);
        weight_span(g, C, gyr + v0 * C, xr + (v0 * g.sw + off) * C, pr + j * C, e0 - v0);
        weight_span(g, C, gyr + e1 * C, xr + (e1 * g.sw + off) * C, pr + j * C, v1 - e1);
      }
    }
  }
}

// Instruction-set variants of the row kernels; the bodies above are inlined into each.
template <typename T>
FUSENAS_CONV_AVX2 void fwd_rows_avx2(const Dw& g, const T* x, const T* wt, const T* bias, T* y,
                                     int64_t r0, int64_t r1) {
  fwd_rows<T>(g, x, wt, bias, y, r0, r1);
}
template <typename T>
void fwd_rows_base(const Dw& g, const T* x, const T* wt, const T* bias, T* y, int64_t r0,
                   int64_t r1) {
  fwd_rows<T>(g, x, wt, bias, y, r0, r1);
}
template <typename T>
FUSENAS_CONV_AVX2 void bwd_input_rows_avx2(const Dw& g, const ConvTapIndex& rows,
                                           const ConvTapIndex& cols, const T* gy, const T* wt,
                                           T* gx, int64_t r0, int64_t r1) {
  bwd_input_rows<T>(g, rows, cols, gy, wt, gx, r0, r1);
}
template <typename T>
void bwd_input_rows_base(const Dw& g, const ConvTapIndex& rows, const ConvTapIndex& cols,
                         const T* gy, const T* wt, T* gx, int64_t r0, int64_t r1) {
  bwd_input_rows<T>(g, rows, cols, gy, wt, gx, r0, r1);
}
template <typename T, int KW, int U>
FUSENAS_CONV_AVX2 void bwd_weight_rows_avx2(const Dw& g, const T* gy, const T* x, T* part,
                                            int64_t r0, int64_t r1) {
  bwd_weight_rows<T, KW, U>(g, gy, x, part, r0, r1);
}
template <typename T, int KW, int U>
void bwd_weight_rows_base(const Dw& g, const T* gy, const T* x, T* part, int64_t r0, int64_t r1) {
  bwd_weight_rows<T, KW, U>(g, gy, x, part, r0, r1);
}

// Rows per parallel task: about 32k multiply-adds.
int64_t row_grain(const Dw& g, int64_t cols) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(cols * g.c * g.kh * g.kw, 1));
}

template <typename T>
void forward_pass(const Dw& g, const T* x, const T* wt, const T* bias, T* y) {
  const auto fn = use_avx2() ? &fwd_rows_avx2<T> : &fwd_rows_base<T>;
  parallel_for(g.n * g.ho, row_grain(g, g.wo),
               [&](int64_t b, int64_t e) { fn(g, x, wt, bias, y, b, e); });
}

// Weights [c, kh, kw] (per output channel) -> tap-major [kh, kw, c], optionally flipped in space.
template <typename T>
std::vector<T> tap_major(const T* w, int64_t c, int64_t kh, int64_t kw, bool flip) {
  std::vector<T> wt(static_cast<size_t>(kh * kw * c));
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t t = 0; t < kh * kw; ++t) {
      const int64_t dst = flip ? kh * kw - 1 - t : t;
      wt[dst * c + ch] = w[ch * kh * kw + t];
    }
  }
  return wt;
}

Dw dw_of(const Conv2dGeometry& g) {
  return {g.n,  g.h,        g.w,        g.cout,  g.ho,    g.wo,         g.kh,
          g.kw, g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dilation_h, g.dilation_w};
}

// With a channel multiplier m, output channel k reads input channel k / m: repeating every input
// channel m times turns the conv into a plain depthwise one over C_out channels.
template <typename T>
std::unique_ptr<T[]> repeat_channels(const T* x, int64_t pixels, int64_t c, int64_t m) {
  auto out = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(pixels * c * m));
  T* o = out.get();
  parallel_for(pixels, std::max<int64_t>(1, 16384 / (c * m)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      for (int64_t k = 0; k < c * m; ++k) o[p * c * m + k] = x[p * c + k / m];
    }
  });
  return out;
}

template <typename T>
void forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t m = g.cout / g.cin;
  std::unique_ptr<T[]> rep;
  if (m > 1) {
    rep = repeat_channels(x, g.n * g.h * g.w, g.cin, m);
    x = rep.get();
  }
  const auto wt = tap_major(w, g.cout, g.kh, g.kw, false);
  forward_pass(dw_of(g), x, wt.data(), bias, y);
}

template <typename T>
void backward_input(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  const Dw d = dw_of(g);
  const int64_t m = g.cout / g.cin;
  std::unique_ptr<T[]> rep;
  T* out = gx;
  if (m > 1) {
    rep = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(g.n * g.h * g.w * g.cout));
    out = rep.get();
  }
  const int64_t flip_ph = (g.kh - 1) * g.dilation_h - g.pad_h;
  const int64_t flip_pw = (g.kw - 1) * g.dilation_w - g.pad_w;
  if (d.sh == 1 && d.sw == 1 && flip_ph >= 0 && flip_pw >= 0) {
    // At stride 1 the input gradient is the forward conv of gy with the spatially flipped filter,
    // so it reuses the register-blocked forward loops.
    const auto wt = tap_major(w, g.cout, g.kh, g.kw, true);
    const Dw t{g.n, g.ho, g.wo, g.cout, g.h, g.w, g.kh, g.kw, 1, 1, flip_ph, flip_pw, d.dh, d.dw};
    forward_pass<T>(t, gy, wt.data(), nullptr, out);
  } else {
    const auto wt = tap_major(w, g.cout, g.kh, g.kw, false);
    const ConvTapIndex rows(g.h, g.kh, d.sh, d.ph, d.dh, g.ho);
    const ConvTapIndex cols(g.w, g.kw, d.sw, d.pw, d.dw, g.wo);
    const auto fn = use_avx2() ? &bwd_input_rows_avx2<T> : &bwd_input_rows_base<T>;
    parallel_for(g.n * g.h, row_grain(d, g.w),
                 [&](int64_t b, int64_t e) { fn(d, rows, cols, gy, wt.data(), out, b, e); });
  }
  if (m > 1) {
    parallel_for(g.n * g.h * g.w, std::max<int64_t>(1, 16384 / g.cout), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        for (int64_t c = 0; c < g.cin; ++c) {
          T s = 0;
          for (int64_t k = 0; k < m; ++k) s += out[(p * g.cin + c) * m + k];
          gx[p * g.cin + c] = s;
        }
      }
    });
  }
}

template <typename T, int KW, int U>
void weight_pass(const Dw& d, const T* gy, const T* x, T* part, int64_t taps) {
  const auto fn = use_avx2() ? &bwd_weight_rows_avx2<T, KW, U> : &bwd_weight_rows_base<T, KW, U>;
  // Each thread sums into its own slice of `part`, so threads never share an accumulator.
  parallel_for(d.n * d.ho, row_grain(d, d.wo), [&](int64_t b, int64_t e) {
    fn(d, gy, x, part + static_cast<int64_t>(omp_get_thread_num()) * taps * d.c, b, e);
  });
}

template <typename T>
void backward_weight(const Conv2dGeometry& g, const T* gy, const T* x, T* gw) {
  const Dw d = dw_of(g);
  const int64_t m = g.cout / g.cin, taps = g.kh * g.kw, C = g.cout;
  std::unique_ptr<T[]> rep;
  if (m > 1) {
    rep = repeat_channels(x, g.n * g.h * g.w, g.cin, m);
    x = rep.get();
  }
  const int threads = omp_get_max_threads();
  std::vector<T> part(static_cast<size_t>(threads * taps * C), T(0));
  switch (g.kw) {
    case 3:
      weight_pass<T, 3, 4>(d, gy, x, part.data(), taps);
      break;
    case 5:
      weight_pass<T, 5, 2>(d, gy, x, part.data(), taps);
      break;
    case 7:
      weight_pass<T, 7, 1>(d, gy, x, part.data(), taps);
      break;
    default:
      weight_pass<T, 0, 1>(d, gy, x, part.data(), taps);
  }
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t t = 0; t < taps; ++t) {
      T s = 0;
      for (int k = 0; k < threads; ++k) s += part[(k * taps + t) * C + c];
      gw[c * taps + t] = s;
    }
  }
}

}  // namespace

void conv2d_depthwise_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                              const Tensor& bias, const Tensor& y) {
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    forward<T>(g, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
               y.data<T>());
  });
}

void conv2d_depthwise_backward_input(const Conv2dGeometry& g, const Tensor& gy,
                                     const Tensor& weight, const Tensor& gx) {
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    backward_input<T>(g, gy.data<T>(), weight.data<T>(), gx.data<T>());
  });
}

void conv2d_depthwise_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                      const Tensor& gw) {
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    backward_weight<T>(g, gy.data<T>(), x.data<T>(), gw.data<T>());
  });
}

}  // namespace fusenas::cpu
