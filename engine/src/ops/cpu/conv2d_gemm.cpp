// im2col + GEMM conv2d on the CPU: dense, grouped and rectangular kernels; 1x1 stride-1 convs are
// one GEMM straight on the NHWC rows.
#include <cstring>
#include <memory>

#include "core/blas.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/conv2d.h"

namespace fusenas::cpu {
namespace {

// Column-buffer size (elements) a chunk of whole images aims for: large enough that each GEMM
// keeps both BLAS threads busy, small enough to stay mostly in the shared cache.
constexpr int64_t kColBudget = int64_t{1} << 20;

// The column matrix has one row per output pixel and, per group, kh*kw*cin_g columns ordered
// like the [C_out, kH, kW, C_in/groups] weight, so a group's GEMM reads it with lda = all columns.
struct Layout {
  int64_t groups, cg, og, kg, kt, per_image, images_per_chunk;

  explicit Layout(const Conv2dGeometry& g)
      : groups(g.p.groups),
        cg(g.cin_g()),
        og(g.cout_g()),
        kg(g.kh * g.kw * g.cin_g()),
        kt(g.p.groups * g.kh * g.kw * g.cin_g()),
        per_image(g.ho * g.wo),
        images_per_chunk(
            std::clamp<int64_t>(kColBudget / std::max<int64_t>(per_image * kt, 1), 1, g.n)) {}
};

template <typename T>
std::unique_ptr<T[]> buffer(int64_t elems) {
  return std::make_unique_for_overwrite<T[]>(static_cast<size_t>(elems));
}

template <typename T>
void im2col(const Conv2dGeometry& g, const Layout& l, const T* x, T* cols, int64_t n0, int64_t n1) {
  const int64_t H = g.h, W = g.w, C = g.cin, kw = g.kw;
  // With one group and no horizontal dilation a kernel row is one contiguous run of kw*C inputs.
  const bool runs = l.groups == 1 && g.p.dilation_w == 1;
  parallel_for((n1 - n0) * g.ho, std::max<int64_t>(1, 8192 / std::max<int64_t>(g.wo * l.kt, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t n = n0 + r / g.ho, ho = r % g.ho;
                   const int64_t hb = ho * g.p.stride_h - g.p.pad_h;
                   const T* xn = x + n * H * W * C;
                   for (int64_t wo = 0; wo < g.wo; ++wo) {
                     T* dst = cols + (r * g.wo + wo) * l.kt;
                     const int64_t wb = wo * g.p.stride_w - g.p.pad_w;
                     int64_t j0, j1;
                     conv_tap_range(wb, kw, g.p.dilation_w, W, j0, j1);
                     for (int64_t i = 0; i < g.kh; ++i) {
                       const int64_t hi = hb + i * g.p.dilation_h;
                       const bool row_in = hi >= 0 && hi < H;
                       const T* xr = xn + hi * W * C;
                       if (runs) {
                         T* d = dst + i * kw * C;
                         if (!row_in) {
                           std::memset(d, 0, sizeof(T) * kw * C);
                           continue;
                         }
                         std::memset(d, 0, sizeof(T) * j0 * C);
                         std::memcpy(d + j0 * C, xr + (wb + j0) * C, sizeof(T) * (j1 - j0) * C);
                         std::memset(d + j1 * C, 0, sizeof(T) * (kw - j1) * C);
                         continue;
                       }
                       for (int64_t grp = 0; grp < l.groups; ++grp) {
                         T* d = dst + grp * l.kg + i * kw * l.cg;
                         for (int64_t j = 0; j < kw; ++j, d += l.cg) {
                           if (row_in && j >= j0 && j < j1) {
                             std::memcpy(d, xr + (wb + j * g.p.dilation_w) * C + grp * l.cg,
                                         sizeof(T) * l.cg);
                           } else {
                             std::memset(d, 0, sizeof(T) * l.cg);
                           }
                         }
                       }
                     }
                   }
                 }
               });
}

// gx for images [n0, n1) from their column gradients, in gather form: each thread owns whole
// input rows, so no two threads add into one element.
template <typename T>
void col2im(const Conv2dGeometry& g, const Layout& l, const T* dcols, T* gx, int64_t n0,
            int64_t n1) {
  const int64_t H = g.h, W = g.w, C = g.cin;
  const ConvTapIndex rows(H, g.kh, g.p.stride_h, g.p.pad_h, g.p.dilation_h, g.ho);
  const ConvTapIndex cols(W, g.kw, g.p.stride_w, g.p.pad_w, g.p.dilation_w, g.wo);
  parallel_for((n1 - n0) * H, std::max<int64_t>(1, 8192 / std::max<int64_t>(W * l.kt, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t n = n0 + r / H, hi = r % H;
                   T* gxr = gx + (n * H + hi) * W * C;
                   std::memset(gxr, 0, sizeof(T) * W * C);
                   for (int64_t a = rows.start[hi]; a < rows.start[hi + 1]; ++a) {
                     const int64_t i = rows.tap[a];
                     const T* drow = dcols + ((r / H) * g.ho + rows.out[a]) * g.wo * l.kt;
                     for (int64_t wi = 0; wi < W; ++wi) {
                       T* dst = gxr + wi * C;
                       for (int64_t c = cols.start[wi]; c < cols.start[wi + 1]; ++c) {
                         const T* src = drow + cols.out[c] * l.kt + (i * g.kw + cols.tap[c]) * l.cg;
                         for (int64_t grp = 0; grp < l.groups; ++grp) {
                           const T* s = src + grp * l.kg;
                           T* d = dst + grp * l.cg;
                           for (int64_t k = 0; k < l.cg; ++k) d[k] += s[k];
                         }
                       }
                     }
                   }
                 }
               });
}

// Every row of y [rows, cout] set to the bias, so the GEMM can add onto it (beta = 1).
template <typename T>
void fill_bias(T* y, int64_t rows, int64_t cout, const T* bias) {
  parallel_for(rows, std::max<int64_t>(1, 16384 / cout), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) std::memcpy(y + r * cout, bias, sizeof(T) * cout);
  });
}

template <typename T>
void forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const Layout l(g);
  const T beta = bias ? T(1) : T(0);
  if (g.pointwise()) {
    const int64_t m = g.n * g.h * g.w;
    if (bias) fill_bias(y, m, g.cout, bias);
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(false, true, m, l.og, l.cg, T(1), x + grp * l.cg, g.cin, w + grp * l.og * l.cg, l.cg,
              beta, y + grp * l.og, g.cout);
    }
    return;
  }
  auto cols = buffer<T>(l.images_per_chunk * l.per_image * l.kt);
  for (int64_t n0 = 0; n0 < g.n; n0 += l.images_per_chunk) {
    const int64_t n1 = std::min(g.n, n0 + l.images_per_chunk), m = (n1 - n0) * l.per_image;
    im2col(g, l, x, cols.get(), n0, n1);
    T* yc = y + n0 * l.per_image * g.cout;
    if (bias) fill_bias(yc, m, g.cout, bias);
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(false, true, m, l.og, l.kg, T(1), cols.get() + grp * l.kg, l.kt,
              w + grp * l.og * l.kg, l.kg, beta, yc + grp * l.og, g.cout);
    }
  }
}

template <typename T>
void backward_input(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  const Layout l(g);
  if (g.pointwise()) {
    const int64_t m = g.n * g.h * g.w;
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(false, false, m, l.cg, l.og, T(1), gy + grp * l.og, g.cout, w + grp * l.og * l.cg,
              l.cg, T(0), gx + grp * l.cg, g.cin);
    }
    return;
  }
  auto dcols = buffer<T>(l.images_per_chunk * l.per_image * l.kt);
  for (int64_t n0 = 0; n0 < g.n; n0 += l.images_per_chunk) {
    const int64_t n1 = std::min(g.n, n0 + l.images_per_chunk), m = (n1 - n0) * l.per_image;
    const T* gyc = gy + n0 * l.per_image * g.cout;
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(false, false, m, l.kg, l.og, T(1), gyc + grp * l.og, g.cout, w + grp * l.og * l.kg,
              l.kg, T(0), dcols.get() + grp * l.kg, l.kt);
    }
    col2im(g, l, dcols.get(), gx, n0, n1);
  }
}

template <typename T>
void backward_weight(const Conv2dGeometry& g, const T* gy, const T* x, T* gw) {
  const Layout l(g);
  if (g.pointwise()) {
    const int64_t m = g.n * g.h * g.w;
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(true, false, l.og, l.cg, m, T(1), gy + grp * l.og, g.cout, x + grp * l.cg, g.cin,
              T(0), gw + grp * l.og * l.cg, l.cg);
    }
    return;
  }
  auto cols = buffer<T>(l.images_per_chunk * l.per_image * l.kt);
  for (int64_t n0 = 0; n0 < g.n; n0 += l.images_per_chunk) {
    const int64_t n1 = std::min(g.n, n0 + l.images_per_chunk), m = (n1 - n0) * l.per_image;
    im2col(g, l, x, cols.get(), n0, n1);
    const T* gyc = gy + n0 * l.per_image * g.cout;
    const T beta = n0 == 0 ? T(0) : T(1);
    for (int64_t grp = 0; grp < l.groups; ++grp) {
      gemm<T>(true, false, l.og, l.kg, m, T(1), gyc + grp * l.og, g.cout, cols.get() + grp * l.kg,
              l.kt, beta, gw + grp * l.og * l.kg, l.kg);
    }
  }
}

}  // namespace

void conv2d_gemm_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                         const Tensor& bias, const Tensor& y) {
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    forward<T>(g, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
               y.data<T>());
  });
}

void conv2d_gemm_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                                const Tensor& gx) {
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    backward_input<T>(g, gy.data<T>(), weight.data<T>(), gx.data<T>());
  });
}

void conv2d_gemm_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                 const Tensor& gw) {
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    backward_weight<T>(g, gy.data<T>(), x.data<T>(), gw.data<T>());
  });
}

}  // namespace fusenas::cpu
