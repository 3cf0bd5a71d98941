// Raw NHWC pooling kernels: one thread per (pixel, channel), channels fastest so loads coalesce.
// The backward passes gather (each input element sums the outputs whose windows read it, in the
// CPU's output order), so they need no atomics and no zeroing pass; max pooling first records
// each window's winning tap.
#include "common.cuh"
#include "fusenas/kernels/pool2d.h"

namespace fusenas::kernels {
namespace {

struct Span {
  int64_t lo, hi;
};

// In-bounds taps [lo, hi) of output position o along a side of length `size`.
__device__ __forceinline__ Span window(int64_t o, int64_t size, const Pool2dGeometry& s) {
  const int64_t start = o * s.stride - s.padding;
  return {max(start, int64_t(0)), min(start + s.kernel, size)};
}

// Outputs [lo, hi) whose windows cover input index i along a side with `outs` outputs.
__device__ __forceinline__ Span covering(int64_t i, int64_t outs, const Pool2dGeometry& s) {
  const int64_t first = i + s.padding - s.kernel + 1;  // lowest window start that reaches i
  const int64_t lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  return {lo, min(outs, (i + s.padding) / s.stride + 1)};
}

// Output element i = ((n * oh + y) * ow + x) * c + ch.
struct OutIndex {
  int64_t n, y, x, ch;
};
__device__ __forceinline__ OutIndex split(int64_t i, int64_t rows, int64_t cols, int64_t c) {
  OutIndex o;
  o.ch = i % c;
  i /= c;
  o.x = i % cols;
  i /= cols;
  o.y = i % rows;
  o.n = i / rows;
  return o;
}

template <typename T>
__global__ void max_forward_kernel(Pool2dGeometry s, const T* x, T* y) {
  const int64_t total = s.n * s.oh * s.ow * s.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const OutIndex o = split(i, s.oh, s.ow, s.c);
    const Span hs = window(o.y, s.h, s), ws = window(o.x, s.w, s);
    const T* img = x + o.n * s.h * s.w * s.c + o.ch;
    T acc = img[(hs.lo * s.w + ws.lo) * s.c];
    bool nan = false;
    for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
      for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
        const T v = img[(ih * s.w + iw) * s.c];
        acc = v > acc ? v : acc;
        nan |= v != v;
      }
    }
    y[i] = nan ? detail::quiet_nan<T>() : acc;
  }
}

// argmax[i] = index (ky * kernel + kx, in the full window) of the first tap equal to y[i], or of
// the first NaN tap when y[i] is NaN (a window with a NaN tap always has a NaN max).
template <typename T>
__global__ void max_argmax_kernel(Pool2dGeometry s, const T* x, const T* y, int* argmax) {
  const int64_t total = s.n * s.oh * s.ow * s.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const OutIndex o = split(i, s.oh, s.ow, s.c);
    const Span hs = window(o.y, s.h, s), ws = window(o.x, s.w, s);
    const int64_t h0 = o.y * s.stride - s.padding, w0 = o.x * s.stride - s.padding;
    const T* img = x + o.n * s.h * s.w * s.c + o.ch;
    const T best = y[i];
    int tap = -1;
    for (int64_t ih = hs.lo; ih < hs.hi && tap < 0; ++ih) {
      for (int64_t iw = ws.lo; iw < ws.hi; ++iw) {
        const T v = img[(ih * s.w + iw) * s.c];
        if (v == best || v != v) {
          tap = static_cast<int>((ih - h0) * s.kernel + (iw - w0));
          break;
        }
      }
    }
    argmax[i] = tap;
  }
}

template <typename T>
__global__ void max_backward_kernel(Pool2dGeometry s, const T* gy, const int* argmax, T* gx) {
  const int64_t total = s.n * s.h * s.w * s.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const OutIndex p = split(i, s.h, s.w, s.c);
    const Span hs = covering(p.y, s.oh, s), ws = covering(p.x, s.ow, s);
    const int64_t base = p.n * s.oh * s.ow * s.c + p.ch;
    T acc = T(0);
    for (int64_t oy = hs.lo; oy < hs.hi; ++oy) {
      for (int64_t ox = ws.lo; ox < ws.hi; ++ox) {
        const int64_t o = base + (oy * s.ow + ox) * s.c;
        const int64_t tap =
            (p.y - (oy * s.stride - s.padding)) * s.kernel + (p.x - (ox * s.stride - s.padding));
        if (argmax[o] == tap) acc += gy[o];
      }
    }
    gx[i] = acc;
  }
}

template <typename T>
__device__ __forceinline__ T inverse_count(const Span& hs, const Span& ws,
                                           const Pool2dGeometry& s) {
  const int64_t count =
      s.count_include_pad ? s.kernel * s.kernel : (hs.hi - hs.lo) * (ws.hi - ws.lo);
  return static_cast<T>(1.0 / static_cast<double>(count));
}

template <typename T>
__global__ void avg_forward_kernel(Pool2dGeometry s, const T* x, T* y) {
  const int64_t total = s.n * s.oh * s.ow * s.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const OutIndex o = split(i, s.oh, s.ow, s.c);
    const Span hs = window(o.y, s.h, s), ws = window(o.x, s.w, s);
    const T* img = x + o.n * s.h * s.w * s.c + o.ch;
    T acc = T(0);
    for (int64_t ih = hs.lo; ih < hs.hi; ++ih) {
      for (int64_t iw = ws.lo; iw < ws.hi; ++iw) acc += img[(ih * s.w + iw) * s.c];
    }
    y[i] = acc * inverse_count<T>(hs, ws, s);
  }
}

template <typename T>
__global__ void avg_backward_kernel(Pool2dGeometry s, const T* gy, T* gx) {
  const int64_t total = s.n * s.h * s.w * s.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const OutIndex p = split(i, s.h, s.w, s.c);
    const Span hs = covering(p.y, s.oh, s), ws = covering(p.x, s.ow, s);
    const T* g = gy + p.n * s.oh * s.ow * s.c + p.ch;
    T acc = T(0);
    for (int64_t oy = hs.lo; oy < hs.hi; ++oy) {
      const Span wh = window(oy, s.h, s);
      for (int64_t ox = ws.lo; ox < ws.hi; ++ox) {
        acc += g[(oy * s.ow + ox) * s.c] * inverse_count<T>(wh, window(ox, s.w, s), s);
      }
    }
    gx[i] = acc;
  }
}

// Block (32 channels, 8 row groups) per (image, channel tile): each thread sums every 8th row in
// double, then the 8 partial sums are added in order.
constexpr int kRowGroups = 8;

template <typename T>
__global__ void global_avg_forward_kernel(int64_t n, int64_t hw, int64_t c, const T* x, T* y) {
  __shared__ double part[kRowGroups][32];
  const int64_t ch = blockIdx.x * int64_t(32) + threadIdx.x;
  const double scale = 1.0 / static_cast<double>(max(hw, int64_t(1)));
  for (int64_t img = blockIdx.y; img < n; img += gridDim.y) {
    double acc = 0;
    if (ch < c) {
      for (int64_t r = threadIdx.y; r < hw; r += kRowGroups) acc += x[(img * hw + r) * c + ch];
    }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && ch < c) {
      double total = 0;
      for (int g = 0; g < kRowGroups; ++g) total += part[g][threadIdx.x];
      y[img * c + ch] = static_cast<T>(total * scale);
    }
    __syncthreads();  // part is rewritten for the next image
  }
}

template <typename T>
__global__ void global_avg_backward_kernel(int64_t n, int64_t hw, int64_t c, const T* gy, T* gx) {
  const T scale = static_cast<T>(1.0 / static_cast<double>(max(hw, int64_t(1))));
  for (int64_t i = detail::thread_index(); i < n * hw * c; i += detail::thread_count()) {
    const int64_t ch = i % c;
    const int64_t img = i / (hw * c);
    gx[i] = gy[img * c + ch] * scale;
  }
}

}  // namespace

cudaError_t max_pool2d_forward(ScalarType type, const Pool2dGeometry& s, const void* x, void* y,
                               cudaStream_t stream) {
  const int64_t total = s.n * s.oh * s.ow * s.c;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    max_forward_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(x), static_cast<T*>(y));
    return cudaGetLastError();
  });
}

cudaError_t max_pool2d_backward(ScalarType type, const Pool2dGeometry& s, const void* x,
                                const void* y, const void* gy, void* gx, int* argmax,
                                cudaStream_t stream) {
  const int64_t outs = s.n * s.oh * s.ow * s.c, ins = s.n * s.h * s.w * s.c;
  if (ins == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    if (outs > 0) {
      max_argmax_kernel<<<grid_for(outs), detail::kThreads, 0, stream>>>(
          s, static_cast<const T*>(x), static_cast<const T*>(y), argmax);
    }
    max_backward_kernel<<<grid_for(ins), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(gy), argmax, static_cast<T*>(gx));
    return cudaGetLastError();
  });
}

cudaError_t avg_pool2d_forward(ScalarType type, const Pool2dGeometry& s, const void* x, void* y,
                               cudaStream_t stream) {
  const int64_t total = s.n * s.oh * s.ow * s.c;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    avg_forward_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(x), static_cast<T*>(y));
    return cudaGetLastError();
  });
}

cudaError_t avg_pool2d_backward(ScalarType type, const Pool2dGeometry& s, const void* gy, void* gx,
                                cudaStream_t stream) {
  const int64_t total = s.n * s.h * s.w * s.c;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    avg_backward_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(gy), static_cast<T*>(gx));
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_forward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                    const void* x, void* y, cudaStream_t stream) {
  if (n == 0 || c == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    const dim3 grid(static_cast<unsigned>((c + 31) / 32),
                    static_cast<unsigned>(min(n, int64_t(65535))));
    global_avg_forward_kernel<<<grid, dim3(32, kRowGroups), 0, stream>>>(
        n, hw, c, static_cast<const T*>(x), static_cast<T*>(y));
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_backward(ScalarType type, int64_t n, int64_t hw, int64_t c,
                                     const void* gy, void* gx, cudaStream_t stream) {
  if (n * hw * c == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    global_avg_backward_kernel<<<grid_for(n * hw * c), detail::kThreads, 0, stream>>>(
        n, hw, c, static_cast<const T*>(gy), static_cast<T*>(gx));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
