// Device helpers of the fused DARTS cell kernels: NHWC view addressing, activations, one output
// element of a spatial stage, the block -> problem mapping and the deterministic last-block
// reductions.
#pragma once

#include "common.cuh"
#include "fusenas/kernels/darts_cell_plan.h"

namespace fusenas::kernels::cell_detail {

using namespace fusenas::kernels::cell;

constexpr int kThreads = 256;
constexpr int kTileBytes = 12 * 1024;  // shared tile budget per block (fits every tile below)

template <typename T>
__device__ __forceinline__ T* at(const View& v, int64_t n, int64_t y, int64_t x) {
  return static_cast<T*>(v.data) + ((n * v.h + y) * v.w + x) * v.row;
}

template <typename T>
__device__ __forceinline__ T ld(const void* p, int64_t i) {
  return static_cast<const T*>(p)[i];
}

__device__ __forceinline__ double mix_value(const MixRef& m, const void* mix, bool f64) {
  if (m.index < 0) return m.fixed;
  return f64 ? static_cast<const double*>(mix)[m.index]
             : static_cast<double>(static_cast<const float*>(mix)[m.index]);
}

// Pixel `pix` of an [n, h, w] grid.
struct Pixel {
  int64_t n, y, x;
};
__device__ __forceinline__ Pixel pixel_of(int64_t pix, int64_t h, int64_t w) {
  return {pix / (h * w), (pix / w) % h, pix % w};
}

template <typename T>
__device__ __forceinline__ T activate(Act act, const Stats& st, T v, int64_t c) {
  if (act == Act::None) return v;
  if (act == Act::BnRelu) v = (v - ld<T>(st.mean, c)) * ld<T>(st.invstd, c);
  return v > T(0) ? v : T(0);
}

// d act / d input at input value v (the mask a chain's gradient passes through).
template <typename T>
__device__ __forceinline__ T activate_grad(Act act, const Stats& st, T v, int64_t c) {
  if (act == Act::None) return T(1);
  if (act == Act::BnRelu) v = (v - ld<T>(st.mean, c)) * ld<T>(st.invstd, c);
  return v > T(0) ? T(1) : T(0);
}

// The 3x3, padding-1 pool window of output (y, x) at `stride`, clipped to an h x w image.
struct Window {
  int64_t y0, y1, x0, x1;
};
__device__ __forceinline__ Window pool_window(int64_t y, int64_t x, int64_t stride, int64_t h,
                                              int64_t w) {
  const int64_t ys = y * stride - 1, xs = x * stride - 1;
  return {ys < 0 ? 0 : ys, ys + 3 > h ? h : ys + 3, xs < 0 ? 0 : xs, xs + 3 > w ? w : xs + 3};
}

// Max (the first maximum in scan order, as the engine's max_pool2d) or mean over a window.
template <typename T>
__device__ __forceinline__ T pool_value(const View& in, int64_t n, int64_t c, const Window& win,
                                        bool max) {
  if (max) {
    T best = at<T>(in, n, win.y0, win.x0)[c];
    for (int64_t y = win.y0; y < win.y1; ++y)
      for (int64_t x = win.x0; x < win.x1; ++x) {
        const T v = at<T>(in, n, y, x)[c];
        best = v > best ? v : best;
      }
    return best;
  }
  T sum = T(0);
  for (int64_t y = win.y0; y < win.y1; ++y)
    for (int64_t x = win.x0; x < win.x1; ++x) sum += at<T>(in, n, y, x)[c];
  return sum / static_cast<T>((win.y1 - win.y0) * (win.x1 - win.x0));
}

// One element of a chain's spatial stage: output pixel (n, y, x), channel c.
template <typename T>
__device__ __forceinline__ T spatial_value(const View& in, Act act, const Stats& st,
                                           const SpatialStage& s, int64_t n, int64_t y, int64_t x,
                                           int64_t c) {
  switch (s.kind) {
    case Spatial::Depthwise: {
      T acc = T(0);
      const T* w = static_cast<const T*>(s.weight) + c * s.k * s.k;
      for (int ky = 0; ky < s.k; ++ky) {
        const int64_t iy = y * s.stride - s.pad + ky * s.dilation;
        if (iy < 0 || iy >= in.h) continue;
        for (int kx = 0; kx < s.k; ++kx) {
          const int64_t ix = x * s.stride - s.pad + kx * s.dilation;
          if (ix < 0 || ix >= in.w) continue;
          acc += activate<T>(act, st, at<T>(in, n, iy, ix)[c], c) * w[ky * s.k + kx];
        }
      }
      return acc;
    }
    case Spatial::Subsample:
      return activate<T>(act, st, at<T>(in, n, y * s.stride + s.offset, x * s.stride + s.offset)[c],
                         c);
    case Spatial::MaxPool:
    case Spatial::AvgPool:
      return pool_value<T>(in, n, c, pool_window(y, x, s.stride, in.h, in.w),
                           s.kind == Spatial::MaxPool);
  }
  return T(0);
}

// The problem whose tiles [first_tile, first_tile + tiles) hold `block` (tables are short).
template <typename P>
__device__ __forceinline__ int problem_of(const P* problems, int count, int block) {
  int p = 0;
  while (p + 1 < count && block >= problems[p + 1].first_tile) ++p;
  return p;
}

// Threads of a block as `lanes` channel lanes by `rows` row groups (tid = row * lanes + lane);
// a channel count above the block size is taken `lanes` channels at a time.
struct LaneMap {
  int lanes, rows, lane, row;
  __device__ LaneMap(int channels) {
    lanes = channels < int(blockDim.x) ? channels : int(blockDim.x);
    rows = int(blockDim.x) / lanes;
    lane = int(threadIdx.x) % lanes;
    row = int(threadIdx.x) / lanes;
  }
  __device__ bool active() const { return row < rows; }
};

// Sums `v` over the row groups of a LaneMap; the total is valid in row group 0. `scratch` holds
// blockDim.x doubles; the call synchronises the block (every thread must make it).
__device__ __forceinline__ double sum_over_rows(double v, const LaneMap& m, double* scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  double s = 0;
  if (m.row == 0) {
    for (int r = 0; r < m.rows; ++r) s += scratch[r * m.lanes + m.lane];
  }
  __syncthreads();
  return s;
}

// After a block has written its partials: true in every thread of the block that finishes
// problem `p` last (the counter is reset for the next launch by that block).
__device__ __forceinline__ bool last_block(unsigned* counters, int p, int tiles, int* flag) {
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned done = atomicAdd(&counters[p], 1u);
    *flag = done == unsigned(tiles - 1) ? 1 : 0;
    if (*flag) counters[p] = 0;
  }
  __syncthreads();
  __threadfence();
  return *flag != 0;
}

}  // namespace fusenas::kernels::cell_detail
