// Direct conv2d on the CPU for dense, grouped and rectangular kernels: register tiles of output
// pixels x output-channel vectors read the NHWC input in place (no im2col buffer, no GEMM
// packing). Also the weight gradient, and the stride-1 input gradient as a conv of the output
// gradient with the flipped, transposed filter.
#include <omp.h>

#include <memory>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/conv2d.h"
#include "ops/cpu/conv2d_simd.h"

namespace fusenas::cpu {
namespace {

constexpr int64_t round_up(int64_t v, int64_t m) {
  return (v + m - 1) / m * m;
}

// A filter laid out for the kernels: [groups][kh*kw][cin_g][cop], output channels innermost and
// zero-padded to cop (a multiple of the vector width), plus the bias padded alike.
template <typename T>
struct Packed {
  int64_t cg = 0, og = 0, cop = 0;
  std::vector<T> w, bias;
};

template <typename T>
Packed<T> pack_filter(const Conv2dGeometry& g, const T* w, const T* bias) {
  const int64_t G = g.groups, taps = g.kh * g.kw;
  Packed<T> pk{g.cin_g(), g.cout_g(), round_up(g.cout_g(), Simd<T>::lanes), {}, {}};
  pk.w.assign(static_cast<size_t>(G * taps * pk.cg * pk.cop), T(0));
  pk.bias.assign(static_cast<size_t>(G * pk.cop), T(0));
  for (int64_t grp = 0; grp < G; ++grp) {
    for (int64_t o = 0; o < pk.og; ++o) {
      const T* src = w + (grp * pk.og + o) * taps * pk.cg;
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t c = 0; c < pk.cg; ++c) {
          pk.w[((grp * taps + t) * pk.cg + c) * pk.cop + o] = src[t * pk.cg + c];
        }
      }
      if (bias) pk.bias[grp * pk.cop + o] = bias[grp * pk.og + o];
    }
  }
  return pk;
}

// The filter of the input-gradient conv: per group, its input channels are the forward output
// channels and vice versa, and every tap is mirrored.
template <typename T>
Packed<T> pack_flipped(const Conv2dGeometry& g, const T* w) {
  const int64_t G = g.groups, taps = g.kh * g.kw, cg = g.cin_g(), og = g.cout_g();
  Packed<T> pk{og, cg, round_up(cg, Simd<T>::lanes), {}, {}};
  pk.w.assign(static_cast<size_t>(G * taps * og * pk.cop), T(0));
  pk.bias.assign(static_cast<size_t>(G * pk.cop), T(0));
  for (int64_t grp = 0; grp < G; ++grp) {
    for (int64_t o = 0; o < og; ++o) {
      const T* src = w + (grp * og + o) * taps * cg;
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t c = 0; c < cg; ++c) {
          pk.w[((grp * taps + taps - 1 - t) * og + o) * pk.cop + c] = src[t * cg + c];
        }
      }
    }
  }
  return pk;
}

}  // namespace

// The kernels, compiled once for the baseline instruction set and once for AVX2+FMA. (A pragma
// region rather than per-function target attributes: under the attribute GCC 12 builds scalar
// broadcasts lane by lane instead of with vbroadcast.)
namespace direct_base {
#include "ops/cpu/conv2d_direct_kernels.inc"
}  // namespace direct_base
#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace direct_avx2 {
#include "ops/cpu/conv2d_direct_kernels.inc"
}  // namespace direct_avx2
#if defined(__x86_64__)
#pragma GCC pop_options
#endif

namespace {

// Output rows per thread, at least: about 256k multiply-adds.
int64_t row_grain(const Conv2dGeometry& g) {
  return std::max<int64_t>(
      1, (int64_t{1} << 18) / std::max<int64_t>(g.wo * g.kh * g.kw * g.cin_g() * g.cout, 1));
}

template <typename T>
void forward_packed(const Conv2dGeometry& g, const Packed<T>& pk, const T* x, T* y) {
  const std::vector<T> zeros(static_cast<size_t>(g.cin), T(0));
  const auto fn = use_avx2() ? &direct_avx2::fwd_rows<T> : &direct_base::fwd_rows<T>;
  parallel_for(g.n * g.ho, row_grain(g), [&](int64_t b, int64_t e) {
    std::vector<const T*> table(static_cast<size_t>(g.kh * g.kw * g.wo));
    fn(g, pk, x, zeros.data(), y, table.data(), b, e);
  });
}

template <typename T>
void backward_weight(const Conv2dGeometry& g, const T* gy, const T* x, T* gw) {
  const int64_t taps = g.kh * g.kw, cg = g.cin_g(), og = g.cout_g(), G = g.groups;
  const int64_t cop = round_up(og, Simd<T>::lanes), size = G * taps * cg * cop;
  const int threads = omp_get_max_threads();
  // Each thread sums its rows into its own copy, added up at the end.
  std::vector<T> part(static_cast<size_t>(threads * size), T(0));
  const auto fn = use_avx2() ? &direct_avx2::wgrad_rows<T> : &direct_base::wgrad_rows<T>;
  parallel_for(g.n * g.ho, row_grain(g), [&](int64_t b, int64_t e) {
    fn(g, cop, gy, x, part.data() + omp_get_thread_num() * size, b, e);
  });
  parallel_for(G * og, std::max<int64_t>(1, 4096 / (taps * cg)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t grp = k / og, o = k % og;
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t c = 0; c < cg; ++c) {
          const int64_t at = ((grp * taps + t) * cg + c) * cop + o;
          T s = 0;
          for (int th = 0; th < threads; ++th) s += part[th * size + at];
          gw[(k * taps + t) * cg + c] = s;
        }
      }
    }
  });
}

}  // namespace

bool conv2d_direct_input_ok(const Conv2dGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.pad_h <= g.dilation_h * (g.kh - 1) &&
         g.pad_w <= g.dilation_w * (g.kw - 1);
}

void conv2d_direct_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                           const Tensor& bias, const Tensor& y) {
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    const Packed<T> pk =
        pack_filter(g, weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr);
    forward_packed(g, pk, x.data<T>(), y.data<T>());
  });
}

void conv2d_direct_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                                  const Tensor& gx) {
  // At stride 1, gx is gy convolved with the mirrored filter, padded so the output is h x w.
  Conv2dGeometry t = g;
  t.h = g.ho;
  t.w = g.wo;
  t.cin = g.cout;
  t.cout = g.cin;
  t.ho = g.h;
  t.wo = g.w;
  t.pad_h = g.dilation_h * (g.kh - 1) - g.pad_h;
  t.pad_w = g.dilation_w * (g.kw - 1) - g.pad_w;
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    forward_packed(t, pack_flipped(g, weight.data<T>()), gy.data<T>(), gx.data<T>());
  });
}

void conv2d_direct_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                   const Tensor& gw) {
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    backward_weight<T>(g, gy.data<T>(), x.data<T>(), gw.data<T>());
  });
}

}  // namespace fusenas::cpu
