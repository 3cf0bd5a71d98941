// CPU kernels for NHWC max/avg pooling and global average pooling, forward and backward.
#include "ops/cpu/pool2d.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/nhwc_simd.h"

namespace fusenas::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements of work per parallel chunk

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_item, 1));
}

// In-bounds taps [lo, hi) of output position `o` along a side of length `size`.
struct Span {
  int64_t lo, hi;
};

Span span(int64_t o, int64_t size, const Pool2dGeometry& g) {
  const int64_t start = o * g.stride - g.padding;
  return {std::max<int64_t>(start, 0), std::min<int64_t>(start + g.kernel, size)};
}

// Outputs whose windows cover input index `i` along a side with `out_size` outputs: [lo, hi).
Span covering(int64_t i, int64_t out_size, const Pool2dGeometry& g) {
  const int64_t first = i + g.padding - g.kernel + 1;  // lowest window start that reaches i
  const int64_t lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride;
  return {lo, std::min(out_size, (i + g.padding) / g.stride + 1)};
}

// Forward passes write disjoint output rows, so they split over (image, output row).
// fn(n, oh, row) with row = n * OH + oh.
template <typename F>
void for_output_rows(const Pool2dGeometry& g, F&& fn) {
  parallel_for(g.n * g.oh, grain_for(g.ow * g.c * g.kernel * g.kernel), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) fn(r / g.oh, r % g.oh, r);
  });
}

// The max backward scatters into gx and overlapping windows share taps, so it splits only by
// image and channel range; channels are split (in whole chunks) when images are too few to keep
// every thread busy. fn(n, c_begin, c_end).
template <typename T, typename F>
void for_image_channel_tasks(const Pool2dGeometry& g, int64_t work_per_image, F&& fn) {
  constexpr int64_t kWide = 64 / sizeof(T);
  const int64_t chunks = (g.c + kWide - 1) / kWide;
  const int64_t threads = omp_get_max_threads();
  int64_t splits = 1;
  while (g.n * splits < 2 * threads && splits * 2 <= chunks) splits *= 2;
  const int64_t tasks = g.n * splits;
  parallel_for(tasks, grain_for(work_per_image / splits), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t s = t % splits;
      const int64_t c0 = std::min(g.c, chunks * s / splits * kWide);
      const int64_t c1 = s + 1 == splits ? g.c : std::min(g.c, chunks * (s + 1) / splits * kWide);
      fn(t / splits, c0, c1);
    }
  });
}

// Zeroes channels [c0, c1) of image n of gx.
template <typename T>
void zero_image(T* gx, const Pool2dGeometry& g, int64_t n, int64_t c0, int64_t c1) {
  T* img = gx + n * g.h * g.w * g.c;
  if (c0 == 0 && c1 == g.c) {
    std::fill(img, img + g.h * g.w * g.c, T(0));
    return;
  }
  for (int64_t r = 0; r < g.h * g.w; ++r) std::fill(img + r * g.c + c0, img + r * g.c + c1, T(0));
}

template <typename T>
bool any_nan(const T* p, int64_t n) {
  using V = Vec<T>;
  constexpr int64_t W = kWidth<V, T>;
  decltype(V{} != V{}) found = {};
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const V v = load<V>(p + i);
    found |= v != v;
  }
  bool nan = false;
  for (int64_t j = 0; j < W; ++j) nan |= lane(found, static_cast<int>(j)) != 0;
  for (; i < n; ++i) nan |= p[i] != p[i];
  return nan;
}

// One output row of the max. A packed max is a single instruction but skips NaNs, so images
// holding a NaN (found by a cheap scan first) take kNaN, which flags NaNs on the side and lets
// them win at the end, as in PyTorch.
template <typename T, bool kNaN>
void max_forward_row(const Pool2dGeometry& g, const T* px, T* py, int64_t n, int64_t oh,
                     int64_t row) {
  const Span hs = span(oh, g.h, g);
  const T* img = px + n * g.h * g.w * g.c;
  for (int64_t ow = 0; ow < g.ow; ++ow) {
    const Span ws = span(ow, g.w, g);
    T* out = py + (row * g.ow + ow) * g.c;
    const T* first = img + (hs.lo * g.w + ws.lo) * g.c;
    for_channel_chunks<T>(0, g.c, [&]<typename L, int K>(int64_t c) {
      constexpr int64_t W = kWidth<L, T>;
      L acc[K];
      decltype(L{} != L{}) nan[K] = {};
      for (int k = 0; k < K; ++k) acc[k] = load<L>(first + c + k * W);
      for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
        for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
          const T* in = img + (ih * g.w + iw) * g.c + c;
          for (int k = 0; k < K; ++k) {
            const L v = load<L>(in + k * W);
            acc[k] = v > acc[k] ? v : acc[k];
            if constexpr (kNaN) nan[k] |= v != v;
          }
        }
      }
      for (int k = 0; k < K; ++k) {
        if constexpr (kNaN) {
          acc[k] = nan[k] ? splat<L>(std::numeric_limits<T>::quiet_NaN()) : acc[k];
        }
        store(out + c + k * W, acc[k]);
      }
    });
  }
}

template <typename T>
void max_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const int64_t image = g.h * g.w * g.c;
  std::vector<char> has_nan(g.n);
  parallel_for(g.n, grain_for(image), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) has_nan[i] = any_nan(px + i * image, image);
  });
  for_output_rows(g, [&](int64_t n, int64_t oh, int64_t row) {
    if (has_nan[n]) {
      max_forward_row<T, true>(g, px, py, n, oh, row);
    } else {
      max_forward_row<T, false>(g, px, py, n, oh, row);
    }
  });
}

// Scatters gy of image n, channels [c0, c1), to the first tap of each window equal to y (the
// first maximum, as PyTorch picks). Recomputing the argmax this way spares the forward from
// writing indices. kNaN also matches NaN taps to a NaN max; it costs two more instructions per
// tap, so it only runs for images whose output holds a NaN.
template <typename T, bool kNaN>
void max_backward_image(const T* px, const T* py, const T* pgy, T* pgx, const Pool2dGeometry& g,
                        int64_t n, int64_t c0, int64_t c1) {
  const T* img = px + n * g.h * g.w * g.c;
  T* gimg = pgx + n * g.h * g.w * g.c;
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    const Span hs = span(oh, g.h, g);
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Span ws = span(ow, g.w, g);
      const int64_t o = ((n * g.oh + oh) * g.ow + ow) * g.c;
      for_channel_chunks<T>(c0, c1, [&]<typename L, int K>(int64_t c) {
        constexpr int64_t W = kWidth<L, T>;
        L rest[K], best[K];  // the gradient still to route, and the max it goes to
        for (int k = 0; k < K; ++k) {
          rest[k] = load<L>(pgy + o + c + k * W);
          best[k] = load<L>(py + o + c + k * W);
        }
        for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
          for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
            const int64_t i = (ih * g.w + iw) * g.c + c;
            for (int k = 0; k < K; ++k) {
              const L v = load<L>(img + i + k * W);
              auto hit = v == best[k];
              if constexpr (kNaN) hit |= v != v;
              store(gimg + i + k * W, load<L>(gimg + i + k * W) + (hit ? rest[k] : L{}));
              rest[k] = hit ? L{} : rest[k];
            }
          }
        }
      });
    }
  }
}

template <typename T>
void max_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                  const Pool2dGeometry& g) {
  const T* px = x.data<T>();
  const T* py = y.data<T>();
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
  const int64_t work = g.oh * g.ow * g.c * g.kernel * g.kernel;
  for_image_channel_tasks<T>(g, work, [&](int64_t n, int64_t c0, int64_t c1) {
    zero_image(pgx, g, n, c0, c1);
    if (any_nan(py + n * g.oh * g.ow * g.c, g.oh * g.ow * g.c)) {
      max_backward_image<T, true>(px, py, pgy, pgx, g, n, c0, c1);
    } else {
      max_backward_image<T, false>(px, py, pgy, pgx, g, n, c0, c1);
    }
  });
}

template <typename T>
T inverse_count(const Span& hs, const Span& ws, const Pool2dGeometry& g) {
  const int64_t count =
      g.count_include_pad ? g.kernel * g.kernel : (hs.hi - hs.lo) * (ws.hi - ws.lo);
  return static_cast<T>(1.0 / static_cast<double>(count));
}

template <typename T>
void avg_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for_output_rows(g, [&](int64_t n, int64_t oh, int64_t row) {
    const Span hs = span(oh, g.h, g);
    const T* img = px + n * g.h * g.w * g.c;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Span ws = span(ow, g.w, g);
      const T scale = inverse_count<T>(hs, ws, g);
      T* out = py + (row * g.ow + ow) * g.c;
      for_channel_chunks<T>(0, g.c, [&]<typename L, int K>(int64_t c) {
        constexpr int64_t W = kWidth<L, T>;
        L acc[K] = {};
        for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
          for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
            const T* in = img + (ih * g.w + iw) * g.c + c;
            for (int k = 0; k < K; ++k) acc[k] += load<L>(in + k * W);
          }
        }
        for (int k = 0; k < K; ++k) store(out + c + k * W, acc[k] * splat<L>(scale));
      });
    }
  });
}

template <typename T>
void avg_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g) {
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
  std::vector<T> scale(g.oh * g.ow);
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      scale[oh * g.ow + ow] = inverse_count<T>(span(oh, g.h, g), span(ow, g.w, g), g);
    }
  }
  // Each input element gathers from the outputs whose windows cover it, rather than outputs
  // scattering into gx: no zeroing pass, one store per element, and input rows are independent.
  const int64_t taps = (g.kernel + g.stride - 1) / g.stride;
  parallel_for(g.n * g.h, grain_for(g.w * g.c * taps * taps), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const Span hs = covering(r % g.h, g.oh, g);
      const T* gimg = pgy + (r / g.h) * g.oh * g.ow * g.c;
      T* grow = pgx + r * g.w * g.c;
      for (int64_t iw = 0; iw < g.w; ++iw) {
        const Span ws = covering(iw, g.ow, g);
        for_channel_chunks<T>(0, g.c, [&]<typename L, int K>(int64_t c) {
          constexpr int64_t W = kWidth<L, T>;
          L acc[K] = {};
          for (int64_t oh = hs.lo; oh < hs.hi; ++oh) {
            for (int64_t ow = ws.lo; ow < ws.hi; ++ow) {
              const L f = splat<L>(scale[oh * g.ow + ow]);
              const T* src = gimg + (oh * g.ow + ow) * g.c + c;
              for (int k = 0; k < K; ++k) acc[k] += load<L>(src + k * W) * f;
            }
          }
          for (int k = 0; k < K; ++k) store(grow + iw * g.c + c + k * W, acc[k]);
        });
      }
    }
  });
}

// Sums of up to this many rows run in T before folding into double.
constexpr int64_t kBlockRows = 32;

template <typename T>
void global_avg_forward(const Tensor& x, const Tensor& y) {
  const int64_t n = x.shape()[0], hw = x.shape()[1] * x.shape()[2], c = x.shape()[3];
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const double scale = 1.0 / static_cast<double>(std::max<int64_t>(hw, 1));
  parallel_for(n, grain_for(hw * c), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* img = px + i * hw * c;
      for_channel_chunks<T>(0, c, [&]<typename L, int K>(int64_t c0) {
        constexpr int64_t W = kWidth<L, T>;
        double total[K * W] = {};
        for (int64_t rb = 0; rb < hw; rb += kBlockRows) {
          L acc[K] = {};
          for (int64_t r = rb; r < std::min(rb + kBlockRows, hw); ++r) {
            for (int k = 0; k < K; ++k) acc[k] += load<L>(img + r * c + c0 + k * W);
          }
          T part[K * W];
          for (int k = 0; k < K; ++k) store(part + k * W, acc[k]);
          for (int64_t j = 0; j < K * W; ++j) total[j] += part[j];
        }
        for (int64_t j = 0; j < K * W; ++j) py[i * c + c0 + j] = static_cast<T>(total[j] * scale);
      });
    }
  });
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() { max_forward<T>(x, y, g); });
}

void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dGeometry& g) {
  dispatch_floating(x.dtype(), "max_pool2d backward",
                    [&]<typename T>() { max_backward<T>(x, y, gy, gx, g); });
}

void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dGeometry& g) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<typename T>() { avg_forward<T>(x, y, g); });
}

void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dGeometry& g) {
  dispatch_floating(gy.dtype(), "avg_pool2d backward",
                    [&]<typename T>() { avg_backward<T>(gy, gx, g); });
}

void global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  dispatch_floating(x.dtype(), "global_avg_pool",
                    [&]<typename T>() { global_avg_forward<T>(x, y); });
}

void global_avg_pool_backward(const Tensor& gy, const Tensor& gx) {
  dispatch_floating(gy.dtype(), "global_avg_pool backward", [&]<typename T>() {
    const int64_t hw = gx.shape()[1] * gx.shape()[2], c = gx.shape()[3];
    const T* pgy = gy.data<T>();
    T* pgx = gx.data<T>();
    const T scale = static_cast<T>(1.0 / static_cast<double>(std::max<int64_t>(hw, 1)));
    parallel_for(gx.shape()[0] * hw, grain_for(c), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* g = pgy + (r / hw) * c;
        T* out = pgx + r * c;
        for (int64_t k = 0; k < c; ++k) out[k] = g[k] * scale;
      }
    });
  });
}

}  // namespace fusenas::cpu
