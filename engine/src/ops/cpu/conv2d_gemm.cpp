// im2col + OpenBLAS GEMM conv2d on the CPU, for filters too long for the direct kernels (any
// dense, grouped or rectangular conv; 1x1 stride-1 convs GEMM straight on the NHWC rows) and for
// input gradients at stride > 1. OpenMP threads own blocks of output rows (or images) and run
// single-threaded GEMMs on them.
#include <omp.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/blas.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/conv2d.h"

namespace fusenas::cpu {
namespace {

// Column-buffer elements per thread and pass: enough rows for an efficient GEMM, few enough that
// the buffer is still in the core's cache when the GEMM reads what im2col wrote.
constexpr int64_t kColBudget = int64_t{1} << 17;
// Multiply-adds a thread should get before a loop is worth splitting.
constexpr int64_t kMinWork = int64_t{1} << 18;

// The column matrix has one row per output pixel and, per group, kh*kw*cin_g columns ordered
// like the [C_out, kH, kW, C_in/groups] weight, so a group's GEMM reads it with lda = all columns.
struct Layout {
  int64_t groups, cg, og, kg, kt;
  int64_t rows_per_pass;  // output rows (of wo pixels) per im2col + GEMM pass
  int64_t row_grain;      // output rows per thread, at least
  // With one group and no horizontal dilation a kernel row is one contiguous run of kw*C inputs.
  bool runs;

  explicit Layout(const Conv2dGeometry& g)
      : groups(g.groups),
        cg(g.cin_g()),
        og(g.cout_g()),
        kg(g.kh * g.kw * g.cin_g()),
        kt(g.groups * g.kh * g.kw * g.cin_g()),
        rows_per_pass(std::max<int64_t>(1, kColBudget / std::max<int64_t>(g.wo * kt, 1))),
        row_grain(std::max<int64_t>(1, kMinWork / std::max<int64_t>(g.wo * kg * g.cout, 1))),
        runs(g.groups == 1 && g.dilation_w == 1) {}
};

template <typename T>
std::unique_ptr<T[]> buffer(int64_t elems) {
  return std::make_unique_for_overwrite<T[]>(static_cast<size_t>(elems));
}

// Copies and clears of the short runs im2col moves (often 16 to 64 elements): inline 32-byte
// vector moves, since a libc call per run cost as much as the run itself.
template <typename T>
void copy_run(T* d, const T* s, int64_t n) {
  typedef T vec __attribute__((vector_size(32)));
  constexpr int64_t V = 32 / static_cast<int64_t>(sizeof(T));
  int64_t k = 0;
  for (; k + V <= n; k += V) {
    vec v;
    __builtin_memcpy(&v, s + k, sizeof v);
    __builtin_memcpy(d + k, &v, sizeof v);
  }
  for (; k < n; ++k) d[k] = s[k];
}

template <typename T>
void zero_run(T* d, int64_t n) {
  typedef T vec __attribute__((vector_size(32)));
  constexpr int64_t V = 32 / static_cast<int64_t>(sizeof(T));
  const vec z = {};
  int64_t k = 0;
  for (; k + V <= n; k += V) __builtin_memcpy(d + k, &z, sizeof z);
  for (; k < n; ++k) d[k] = T(0);
}

// Column rows for output rows [r0, r1) of n*ho.
template <typename T>
void im2col(const Conv2dGeometry& g, const Layout& l, const T* x, T* cols, int64_t r0, int64_t r1) {
  const int64_t H = g.h, W = g.w, C = g.cin, kw = g.kw;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.ho, ho = r % g.ho;
    const int64_t hb = ho * g.stride_h - g.pad_h;
    const T* xn = x + n * H * W * C;
    for (int64_t wo = 0; wo < g.wo; ++wo) {
      T* dst = cols + ((r - r0) * g.wo + wo) * l.kt;
      const int64_t wb = wo * g.stride_w - g.pad_w;
      int64_t j0, j1;
      conv_tap_range(wb, kw, g.dilation_w, W, j0, j1);
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t hi = hb + i * g.dilation_h;
        const bool row_in = hi >= 0 && hi < H;
        const T* xr = xn + hi * W * C;
        if (l.runs) {
          T* d = dst + i * kw * C;
          if (!row_in) {
            zero_run(d, kw * C);
            continue;
          }
          if (j0 > 0) zero_run(d, j0 * C);
          copy_run(d + j0 * C, xr + (wb + j0) * C, (j1 - j0) * C);
          if (j1 < kw) zero_run(d + j1 * C, (kw - j1) * C);
          continue;
        }
        for (int64_t grp = 0; grp < l.groups; ++grp) {
          T* d = dst + grp * l.kg + i * kw * l.cg;
          for (int64_t j = 0; j < kw; ++j, d += l.cg) {
            if (row_in && j >= j0 && j < j1) {
              copy_run(d, xr + (wb + j * g.dilation_w) * C + grp * l.cg, l.cg);
            } else {
              zero_run(d, l.cg);
            }
          }
        }
      }
    }
  }
}

template <typename T>
void add_into(T* __restrict d, const T* __restrict s, int64_t n) {
  for (int64_t k = 0; k < n; ++k) d[k] += s[k];
}

// Scatters the column gradients of image n's output rows [ho0, ho1) back into its input
// gradient gxn (the adjoint of im2col); the calling thread owns the whole image.
template <typename T>
void col2im(const Conv2dGeometry& g, const Layout& l, const T* dcols, T* gxn, int64_t ho0,
            int64_t ho1) {
  const int64_t W = g.w, C = g.cin, kw = g.kw;
  for (int64_t ho = ho0; ho < ho1; ++ho) {
    const int64_t hb = ho * g.stride_h - g.pad_h;
    int64_t i0, i1;
    conv_tap_range(hb, g.kh, g.dilation_h, g.h, i0, i1);
    for (int64_t wo = 0; wo < g.wo; ++wo) {
      const T* src = dcols + ((ho - ho0) * g.wo + wo) * l.kt;
      const int64_t wb = wo * g.stride_w - g.pad_w;
      int64_t j0, j1;
      conv_tap_range(wb, kw, g.dilation_w, W, j0, j1);
      for (int64_t i = i0; i < i1; ++i) {
        T* gr = gxn + (hb + i * g.dilation_h) * W * C;
        if (l.runs) {
          add_into(gr + (wb + j0) * C, src + (i * kw + j0) * C, (j1 - j0) * C);
          continue;
        }
        for (int64_t grp = 0; grp < l.groups; ++grp) {
          for (int64_t j = j0; j < j1; ++j) {
            add_into(gr + (wb + j * g.dilation_w) * C + grp * l.cg,
                     src + grp * l.kg + (i * kw + j) * l.cg, l.cg);
          }
        }
      }
    }
  }
}

// Every row of y [rows, cout] set to the bias, so the GEMM can add onto it (beta = 1).
template <typename T>
void fill_bias(T* y, int64_t rows, int64_t cout, const T* bias) {
  for (int64_t r = 0; r < rows; ++r) copy_run(y + r * cout, bias, cout);
}

template <typename T>
void forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const Layout l(g);
  const T beta = bias ? T(1) : T(0);
  parallel_for(g.n * g.ho, l.row_grain, [&](int64_t b, int64_t e) {
    std::unique_ptr<T[]> cols;
    if (!g.pointwise()) cols = buffer<T>(l.rows_per_pass * g.wo * l.kt);
    for (int64_t r0 = b; r0 < e; r0 += l.rows_per_pass) {
      const int64_t r1 = std::min(e, r0 + l.rows_per_pass), m = (r1 - r0) * g.wo;
      // A 1x1 stride-1 conv reads its input rows in place.
      const T* a = x + r0 * g.wo * g.cin;
      int64_t lda = g.cin, a_group = l.cg;
      if (!g.pointwise()) {
        im2col(g, l, x, cols.get(), r0, r1);
        a = cols.get();
        lda = l.kt;
        a_group = l.kg;
      }
      T* yc = y + r0 * g.wo * g.cout;
      if (bias) fill_bias(yc, m, g.cout, bias);
      for (int64_t grp = 0; grp < l.groups; ++grp) {
        gemm<T>(false, true, m, l.og, l.kg, T(1), a + grp * a_group, lda, w + grp * l.og * l.kg,
                l.kg, beta, yc + grp * l.og, g.cout);
      }
    }
  });
}

template <typename T>
void backward_input(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  const Layout l(g);
  if (g.pointwise()) {
    parallel_for(g.n * g.ho, l.row_grain, [&](int64_t b, int64_t e) {
      const int64_t m = (e - b) * g.wo;
      for (int64_t grp = 0; grp < l.groups; ++grp) {
        gemm<T>(false, false, m, l.cg, l.og, T(1), gy + b * g.wo * g.cout + grp * l.og, g.cout,
                w + grp * l.og * l.cg, l.cg, T(0), gx + b * g.wo * g.cin + grp * l.cg, g.cin);
      }
    });
    return;
  }
  // Windows of neighbouring output rows overlap in the input, so threads own whole images.
  const int64_t rows_per_pass = std::min(l.rows_per_pass, g.ho);
  const int64_t image_grain = std::max<int64_t>(1, l.row_grain / std::max<int64_t>(g.ho, 1));
  parallel_for(g.n, image_grain, [&](int64_t b, int64_t e) {
    auto dcols = buffer<T>(rows_per_pass * g.wo * l.kt);
    for (int64_t n = b; n < e; ++n) {
      T* gxn = gx + n * g.h * g.w * g.cin;
      std::memset(gxn, 0, sizeof(T) * g.h * g.w * g.cin);
      for (int64_t ho0 = 0; ho0 < g.ho; ho0 += rows_per_pass) {
        const int64_t ho1 = std::min(g.ho, ho0 + rows_per_pass), m = (ho1 - ho0) * g.wo;
        const T* gyc = gy + (n * g.ho + ho0) * g.wo * g.cout;
        for (int64_t grp = 0; grp < l.groups; ++grp) {
          gemm<T>(false, false, m, l.kg, l.og, T(1), gyc + grp * l.og, g.cout,
                  w + grp * l.og * l.kg, l.kg, T(0), dcols.get() + grp * l.kg, l.kt);
        }
        col2im(g, l, dcols.get(), gxn, ho0, ho1);
      }
    }
  });
}

template <typename T>
void backward_weight(const Conv2dGeometry& g, const T* gy, const T* x, T* gw) {
  const Layout l(g);
  // Each thread sums its rows into its own copy of gw; the copies are added at the end.
  const int threads = omp_get_max_threads();
  const int64_t size = g.cout * l.kg;
  auto part = buffer<T>(threads * size);
  std::vector<char> used(threads, 0);
  parallel_for(g.n * g.ho, l.row_grain, [&](int64_t b, int64_t e) {
    const int t = omp_get_thread_num();
    T* mine = part.get() + t * size;
    std::unique_ptr<T[]> cols;
    if (!g.pointwise()) cols = buffer<T>(l.rows_per_pass * g.wo * l.kt);
    for (int64_t r0 = b; r0 < e; r0 += l.rows_per_pass) {
      const int64_t r1 = std::min(e, r0 + l.rows_per_pass), m = (r1 - r0) * g.wo;
      const T* a = x + r0 * g.wo * g.cin;
      int64_t lda = g.cin, a_group = l.cg;
      if (!g.pointwise()) {
        im2col(g, l, x, cols.get(), r0, r1);
        a = cols.get();
        lda = l.kt;
        a_group = l.kg;
      }
      const T* gyc = gy + r0 * g.wo * g.cout;
      const T beta = used[t] ? T(1) : T(0);
      for (int64_t grp = 0; grp < l.groups; ++grp) {
        gemm<T>(true, false, l.og, l.kg, m, T(1), gyc + grp * l.og, g.cout, a + grp * a_group, lda,
                beta, mine + grp * l.og * l.kg, l.kg);
      }
      used[t] = 1;
    }
  });
  parallel_for(size, 16384, [&](int64_t b, int64_t e) {
    std::fill(gw + b, gw + e, T(0));
    for (int t = 0; t < threads; ++t) {
      if (used[t]) add_into(gw + b, part.get() + t * size + b, e - b);
    }
  });
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
