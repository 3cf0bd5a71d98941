// CPU kernels for NHWC max/avg pooling and global average pooling, forward and backward.
#include "ops/cpu/pool2d.h"

#include <algorithm>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/cpu/channel_chunks.h"

namespace fusenas::cpu {
namespace {

constexpr int64_t kGrain = 32768;  // elements of work per parallel chunk

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_item, 1));
}

struct Geometry {
  int64_t n, h, w, c, oh, ow;
};

Geometry geometry(const Tensor& x, const Tensor& y) {
  return {x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], y.shape()[1], y.shape()[2]};
}

// In-bounds taps [lo, hi) of output position `o` along a side of length `size`.
struct Span {
  int64_t lo, hi;
};

Span span(int64_t o, int64_t size, const Pool2dParams& p) {
  const int64_t start = o * p.stride - p.padding;
  return {std::max<int64_t>(start, 0), std::min<int64_t>(start + p.kernel, size)};
}

// Forward passes write disjoint output rows, so they split over (image, output row).
// fn(n, oh, row) with row = n * OH + oh.
template <typename F>
void for_output_rows(const Geometry& g, const Pool2dParams& p, F&& fn) {
  parallel_for(g.n * g.oh, grain_for(g.ow * g.c * p.kernel * p.kernel), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) fn(r / g.oh, r % g.oh, r);
  });
}

// Backward passes scatter into gx and overlapping windows share taps, so they split only by
// image and channel range; channels are split (in whole chunks) when images are too few to keep
// every thread busy. fn(n, c_begin, c_end).
template <typename T, typename F>
void for_image_channel_tasks(const Geometry& g, int64_t work_per_image, F&& fn) {
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
void zero_image(T* gx, const Geometry& g, int64_t n, int64_t c0, int64_t c1) {
  T* img = gx + n * g.h * g.w * g.c;
  if (c0 == 0 && c1 == g.c) {
    std::fill(img, img + g.h * g.w * g.c, T(0));
    return;
  }
  for (int64_t r = 0; r < g.h * g.w; ++r) std::fill(img + r * g.c + c0, img + r * g.c + c1, T(0));
}

template <typename T>
void max_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p) {
  const Geometry g = geometry(x, y);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for_output_rows(g, p, [&](int64_t n, int64_t oh, int64_t row) {
    const Span hs = span(oh, g.h, p);
    const T* img = px + n * g.h * g.w * g.c;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Span ws = span(ow, g.w, p);
      T* out = py + (row * g.ow + ow) * g.c;
      for_channel_chunks<T>(0, g.c, [&]<int V>(int64_t c) {
        T acc[V];
        const T* first = img + (hs.lo * g.w + ws.lo) * g.c + c;
        for (int v = 0; v < V; ++v) acc[v] = first[v];
        for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
          for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
            const T* in = img + (ih * g.w + iw) * g.c + c;
            // NaN propagates, as in PyTorch.
            for (int v = 0; v < V; ++v)
              acc[v] = ((in[v] > acc[v]) | (in[v] != in[v])) ? in[v] : acc[v];
          }
        }
        for (int v = 0; v < V; ++v) out[c + v] = acc[v];
      });
    }
  });
}

template <typename T>
void max_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                  const Pool2dParams& p) {
  const Geometry g = geometry(x, y);
  const T* px = x.data<T>();
  const T* py = y.data<T>();
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
  const int64_t work = g.oh * g.ow * g.c * p.kernel * p.kernel;
  for_image_channel_tasks<T>(g, work, [&](int64_t n, int64_t c0, int64_t c1) {
    zero_image(pgx, g, n, c0, c1);
    const T* img = px + n * g.h * g.w * g.c;
    T* gimg = pgx + n * g.h * g.w * g.c;
    for (int64_t oh = 0; oh < g.oh; ++oh) {
      const Span hs = span(oh, g.h, p);
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        const Span ws = span(ow, g.w, p);
        const int64_t o = ((n * g.oh + oh) * g.ow + ow) * g.c;
        for_channel_chunks<T>(c0, c1, [&]<int V>(int64_t c) {
          // Recomputing the argmax from y saves the forward from writing indices: the first tap
          // equal to the max takes the whole gradient (the NaN test matches a NaN max).
          T rest[V], best[V];
          for (int v = 0; v < V; ++v) {
            rest[v] = pgy[o + c + v];
            best[v] = py[o + c + v];
          }
          for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
            for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
              const int64_t i = (ih * g.w + iw) * g.c + c;
              const T* in = img + i;
              T* gin = gimg + i;
              for (int v = 0; v < V; ++v) {
                const bool hit = (in[v] == best[v]) | (in[v] != in[v]);
                gin[v] += hit ? rest[v] : T(0);
                rest[v] = hit ? T(0) : rest[v];
              }
            }
          }
        });
      }
    }
  });
}

template <typename T>
T inverse_count(const Span& hs, const Span& ws, const Pool2dParams& p) {
  const int64_t count =
      p.count_include_pad ? p.kernel * p.kernel : (hs.hi - hs.lo) * (ws.hi - ws.lo);
  return static_cast<T>(1.0 / static_cast<double>(count));
}

template <typename T>
void avg_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p) {
  const Geometry g = geometry(x, y);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for_output_rows(g, p, [&](int64_t n, int64_t oh, int64_t row) {
    const Span hs = span(oh, g.h, p);
    const T* img = px + n * g.h * g.w * g.c;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Span ws = span(ow, g.w, p);
      const T scale = inverse_count<T>(hs, ws, p);
      T* out = py + (row * g.ow + ow) * g.c;
      for_channel_chunks<T>(0, g.c, [&]<int V>(int64_t c) {
        T acc[V] = {};
        for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
          for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
            const T* in = img + (ih * g.w + iw) * g.c + c;
            for (int v = 0; v < V; ++v) acc[v] += in[v];
          }
        }
        for (int v = 0; v < V; ++v) out[c + v] = acc[v] * scale;
      });
    }
  });
}

template <typename T>
void avg_backward(const Tensor& gy, const Tensor& gx, const Pool2dParams& p) {
  const Geometry g = geometry(gx, gy);
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
  const int64_t work = g.oh * g.ow * g.c * p.kernel * p.kernel;
  for_image_channel_tasks<T>(g, work, [&](int64_t n, int64_t c0, int64_t c1) {
    zero_image(pgx, g, n, c0, c1);
    T* gimg = pgx + n * g.h * g.w * g.c;
    for (int64_t oh = 0; oh < g.oh; ++oh) {
      const Span hs = span(oh, g.h, p);
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        const Span ws = span(ow, g.w, p);
        const T scale = inverse_count<T>(hs, ws, p);
        const T* gout = pgy + ((n * g.oh + oh) * g.ow + ow) * g.c;
        for_channel_chunks<T>(c0, c1, [&]<int V>(int64_t c) {
          T share[V];
          for (int v = 0; v < V; ++v) share[v] = gout[c + v] * scale;
          for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
            for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
              T* gin = gimg + (ih * g.w + iw) * g.c + c;
              for (int v = 0; v < V; ++v) gin[v] += share[v];
            }
          }
        });
      }
    }
  });
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p) {
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() { max_forward<T>(x, y, p); });
}

void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& gy, const Tensor& gx,
                         const Pool2dParams& p) {
  dispatch_floating(x.dtype(), "max_pool2d backward",
                    [&]<typename T>() { max_backward<T>(x, y, gy, gx, p); });
}

void avg_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& p) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<typename T>() { avg_forward<T>(x, y, p); });
}

void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const Pool2dParams& p) {
  dispatch_floating(gy.dtype(), "avg_pool2d backward",
                    [&]<typename T>() { avg_backward<T>(gy, gx, p); });
}

void global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  dispatch_floating(x.dtype(), "global_avg_pool", [&]<typename T>() {
    const int64_t n = x.shape()[0], hw = x.shape()[1] * x.shape()[2], c = x.shape()[3];
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const double scale = 1.0 / static_cast<double>(std::max<int64_t>(hw, 1));
    parallel_for(n, grain_for(hw * c), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* img = px + i * hw * c;
        for_channel_chunks<T>(0, c, [&]<int V>(int64_t c0) {
          double acc[V] = {};
          for (int64_t r = 0; r < hw; ++r) {
            for (int v = 0; v < V; ++v) acc[v] += img[r * c + c0 + v];
          }
          for (int v = 0; v < V; ++v) py[i * c + c0 + v] = static_cast<T>(acc[v] * scale);
        });
      }
    });
  });
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
