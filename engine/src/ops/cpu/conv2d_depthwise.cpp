// Depthwise conv2d on the CPU (one filter per channel, optionally a channel multiplier): direct
// loops vectorised over the contiguous NHWC channel axis, with AVX2+FMA code picked at run time.
#include <omp.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/conv2d.h"

#define FUSENAS_DW_INLINE [[gnu::always_inline]] inline
#define FUSENAS_DW_AVX2 [[gnu::target("avx2,fma")]]

namespace fusenas::cpu {
namespace {

// 32-byte GCC vectors: one AVX register in the AVX2 build, a pair of SSE registers otherwise.
template <typename T>
struct Simd {
  static constexpr int64_t lanes = 32 / static_cast<int64_t>(sizeof(T));
  typedef T vec __attribute__((vector_size(32)));
};

// Loads and stores through memcpy: channel offsets give no alignment guarantee.
template <typename V, typename T>
FUSENAS_DW_INLINE void vload(V& v, const T* p) {
  std::memcpy(&v, p, sizeof(V));
}
template <typename V, typename T>
FUSENAS_DW_INLINE void vstore(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

bool use_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

// Geometry of one depthwise pass: input [n, h, w, c] -> output [n, ho, wo, c]; the filter is
// stored tap-major [kh, kw, c] so a tap's weights for consecutive channels are contiguous.
struct Dw {
  int64_t n, h, w, c, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
};

// NB horizontally adjacent outputs of one row that share the tap range [j0, j1).
// x points at the image, y at the first output pixel, wb is the first window's left column.
template <typename T, int NB>
FUSENAS_DW_INLINE void fwd_pixels(const Dw& g, const T* x, const T* wt, const T* bias, T* y,
                                  int64_t hb, int64_t i0, int64_t i1, int64_t wb, int64_t j0,
                                  int64_t j1) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c, step = g.sw * C;
  int64_t c = 0;
  for (; c + V <= C; c += V) {
    vec acc[NB];
    vec b0 = {};
    if (bias) vload(b0, bias + c);
    for (int k = 0; k < NB; ++k) acc[k] = b0;
    for (int64_t i = i0; i < i1; ++i) {
      const T* xr = x + ((hb + i * g.dh) * g.w + wb) * C + c;
      const T* wr = wt + i * g.kw * C + c;
      for (int64_t j = j0; j < j1; ++j) {
        vec wv, xv;
        vload(wv, wr + j * C);
        const T* xp = xr + j * g.dw * C;
        for (int k = 0; k < NB; ++k) {
          vload(xv, xp + k * step);
          acc[k] += wv * xv;
        }
      }
    }
    for (int k = 0; k < NB; ++k) vstore(y + k * C + c, acc[k]);
  }
  for (; c < C; ++c) {
    for (int k = 0; k < NB; ++k) {
      T acc = bias ? bias[c] : T(0);
      for (int64_t i = i0; i < i1; ++i) {
        const T* xr = x + ((hb + i * g.dh) * g.w + wb) * C + c + k * step;
        for (int64_t j = j0; j < j1; ++j) acc += wt[(i * g.kw + j) * C + c] * xr[j * g.dw * C];
      }
      y[k * C + c] = acc;
    }
  }
}

// Output rows [r0, r1) of n*ho.
template <typename T>
FUSENAS_DW_INLINE void fwd_rows(const Dw& g, const T* x, const T* wt, const T* bias, T* y,
                                int64_t r0, int64_t r1) {
  constexpr int NB = 4;
  int64_t wlo, whi;
  conv_interior(g.wo, g.w, g.kw, g.sw, g.pw, g.dw, wlo, whi);
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.ho, ho = r % g.ho, hb = ho * g.sh - g.ph;
    int64_t i0, i1;
    conv_tap_range(hb, g.kh, g.dh, g.h, i0, i1);
    const T* xn = x + n * g.h * g.w * g.c;
    T* yr = y + r * g.wo * g.c;
    for (int64_t wo = 0; wo < g.wo;) {
      const int64_t wb = wo * g.sw - g.pw;
      if (wo >= wlo && wo + NB <= whi) {
        fwd_pixels<T, NB>(g, xn, wt, bias, yr + wo * g.c, hb, i0, i1, wb, 0, g.kw);
        wo += NB;
      } else {
        int64_t j0, j1;
        conv_tap_range(wb, g.kw, g.dw, g.w, j0, j1);
        fwd_pixels<T, 1>(g, xn, wt, bias, yr + wo * g.c, hb, i0, i1, wb, j0, j1);
        ++wo;
      }
    }
  }
}

// gx rows [r0, r1) of n*h in gather form, for any stride: each input pixel sums the outputs whose
// windows read it.
template <typename T>
FUSENAS_DW_INLINE void bwd_input_rows(const Dw& g, const ConvTapIndex& rows,
                                      const ConvTapIndex& cols, const T* gy, const T* wt, T* gx,
                                      int64_t r0, int64_t r1) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.h, hi = r % g.h;
    const T* gyn = gy + n * g.ho * g.wo * C;
    for (int64_t wi = 0; wi < g.w; ++wi) {
      T* dst = gx + (r * g.w + wi) * C;
      int64_t c = 0;
      for (; c + V <= C; c += V) {
        vec acc = {}, wv, gv;
        for (int64_t a = rows.start[hi]; a < rows.start[hi + 1]; ++a) {
          const T* gr = gyn + rows.out[a] * g.wo * C + c;
          const T* wr = wt + rows.tap[a] * g.kw * C + c;
          for (int64_t b = cols.start[wi]; b < cols.start[wi + 1]; ++b) {
            vload(wv, wr + cols.tap[b] * C);
            vload(gv, gr + cols.out[b] * C);
            acc += wv * gv;
          }
        }
        vstore(dst + c, acc);
      }
      for (; c < C; ++c) {
        T acc = 0;
        for (int64_t a = rows.start[hi]; a < rows.start[hi + 1]; ++a) {
          for (int64_t b = cols.start[wi]; b < cols.start[wi + 1]; ++b) {
            acc += wt[(rows.tap[a] * g.kw + cols.tap[b]) * C + c] *
                   gyn[(rows.out[a] * g.wo + cols.out[b]) * C + c];
          }
        }
        dst[c] = acc;
      }
    }
  }
}

// Adds sum over output rows [r0, r1) of gy * x, per tap and channel, into part [kh, kw, c].
// KW > 0 keeps one register accumulator per horizontal tap across the row's interior (each gy
// load feeds KW FMAs and the FMA chains are independent); KW == 0 accumulates in memory.
template <typename T, int KW>
FUSENAS_DW_INLINE void bwd_weight_rows(const Dw& g, const T* gy, const T* x, T* part, int64_t r0,
                                       int64_t r1) {
  using vec = typename Simd<T>::vec;
  constexpr int64_t V = Simd<T>::lanes;
  const int64_t C = g.c, step = g.sw * C;
  int64_t wlo, whi;
  conv_interior(g.wo, g.w, g.kw, g.sw, g.pw, g.dw, wlo, whi);
  if (KW == 0) whi = wlo;  // everything goes through the in-memory edge path
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.ho, ho = r % g.ho, hb = ho * g.sh - g.ph;
    int64_t i0, i1;
    conv_tap_range(hb, g.kh, g.dh, g.h, i0, i1);
    const T* gyr = gy + r * g.wo * C;
    for (int64_t i = i0; i < i1; ++i) {
      const T* xr = x + ((n * g.h + hb + i * g.dh) * g.w) * C;
      T* pr = part + i * g.kw * C;
      for (int64_t wo = 0; wo < g.wo; ++wo) {
        if (wo == wlo) wo = std::max(whi, wlo);  // the interior is summed below
        if (wo >= g.wo) break;
        const int64_t wb = wo * g.sw - g.pw;
        int64_t j0, j1;
        conv_tap_range(wb, g.kw, g.dw, g.w, j0, j1);
        for (int64_t j = j0; j < j1; ++j) {
          const T* xp = xr + (wb + j * g.dw) * C;
          const T* gp = gyr + wo * C;
          T* pp = pr + j * C;
          for (int64_t c = 0; c < C; ++c) pp[c] += gp[c] * xp[c];
        }
      }
      if constexpr (KW > 0) {
        if (whi <= wlo) continue;
        int64_t c = 0;
        for (; c + V <= C; c += V) {
          vec acc[KW] = {};
          vec gv, xv;
          const T* xp = xr + (wlo * g.sw - g.pw) * C + c;
          for (int64_t wo = wlo; wo < whi; ++wo, xp += step) {
            vload(gv, gyr + wo * C + c);
            for (int j = 0; j < KW; ++j) {
              vload(xv, xp + j * g.dw * C);
              acc[j] += gv * xv;
            }
          }
          for (int j = 0; j < KW; ++j) {
            vec pv;
            vload(pv, pr + j * C + c);
            vstore(pr + j * C + c, pv + acc[j]);
          }
        }
        for (; c < C; ++c) {
          for (int j = 0; j < KW; ++j) {
            T acc = 0;
            for (int64_t wo = wlo; wo < whi; ++wo) {
              acc += gyr[wo * C + c] * xr[(wo * g.sw - g.pw + j * g.dw) * C + c];
            }
            pr[j * C + c] += acc;
          }
        }
      }
    }
  }
}

// Instruction-set variants of the row kernels; the bodies above are inlined into each.
template <typename T>
FUSENAS_DW_AVX2 void fwd_rows_avx2(const Dw& g, const T* x, const T* wt, const T* bias, T* y,
                                   int64_t r0, int64_t r1) {
  fwd_rows<T>(g, x, wt, bias, y, r0, r1);
}
template <typename T>
void fwd_rows_base(const Dw& g, const T* x, const T* wt, const T* bias, T* y, int64_t r0,
                   int64_t r1) {
  fwd_rows<T>(g, x, wt, bias, y, r0, r1);
}
template <typename T>
FUSENAS_DW_AVX2 void bwd_input_rows_avx2(const Dw& g, const ConvTapIndex& rows,
                                         const ConvTapIndex& cols, const T* gy, const T* wt, T* gx,
                                         int64_t r0, int64_t r1) {
  bwd_input_rows<T>(g, rows, cols, gy, wt, gx, r0, r1);
}
template <typename T>
void bwd_input_rows_base(const Dw& g, const ConvTapIndex& rows, const ConvTapIndex& cols,
                         const T* gy, const T* wt, T* gx, int64_t r0, int64_t r1) {
  bwd_input_rows<T>(g, rows, cols, gy, wt, gx, r0, r1);
}
template <typename T, int KW>
FUSENAS_DW_AVX2 void bwd_weight_rows_avx2(const Dw& g, const T* gy, const T* x, T* part, int64_t r0,
                                          int64_t r1) {
  bwd_weight_rows<T, KW>(g, gy, x, part, r0, r1);
}
template <typename T, int KW>
void bwd_weight_rows_base(const Dw& g, const T* gy, const T* x, T* part, int64_t r0, int64_t r1) {
  bwd_weight_rows<T, KW>(g, gy, x, part, r0, r1);
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
  return {g.n,  g.h,          g.w,          g.cout,    g.ho,      g.wo,           g.kh,
          g.kw, g.p.stride_h, g.p.stride_w, g.p.pad_h, g.p.pad_w, g.p.dilation_h, g.p.dilation_w};
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
  const int64_t flip_ph = (g.kh - 1) * g.p.dilation_h - g.p.pad_h;
  const int64_t flip_pw = (g.kw - 1) * g.p.dilation_w - g.p.pad_w;
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

template <typename T, int KW>
void weight_pass(const Dw& d, const T* gy, const T* x, T* part, int64_t taps) {
  const auto fn = use_avx2() ? &bwd_weight_rows_avx2<T, KW> : &bwd_weight_rows_base<T, KW>;
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
      weight_pass<T, 3>(d, gy, x, part.data(), taps);
      break;
    case 5:
      weight_pass<T, 5>(d, gy, x, part.data(), taps);
      break;
    case 7:
      weight_pass<T, 7>(d, gy, x, part.data(), taps);
      break;
    default:
      weight_pass<T, 0>(d, gy, x, part.data(), taps);
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
