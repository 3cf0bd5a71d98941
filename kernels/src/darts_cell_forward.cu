// Forward kernels of the fused DARTS cell: chains (activation, spatial stage and pointwise
// convolution in one pass through a shared-memory tile, with their batch-norm statistics),
// evaluation statistics, normalising the preprocessed inputs, and the node combine.
#include "darts_cell_common.cuh"
#include "fusenas/kernels/darts_cell.h"

namespace fusenas::kernels {
namespace {

using namespace cell_detail;

// Running statistics after a batch: applied `repeats` times with one batch value.
template <typename T>
__device__ void update_running(void* running_mean, void* running_var, int repeats, int64_t c,
                               double mean, double var, double m, double momentum) {
  if (running_mean == nullptr) return;
  double keep = 1;
  for (int r = 0; r < repeats; ++r) keep *= 1 - momentum;
  const double mom = 1 - keep;
  T* rm = static_cast<T*>(running_mean);
  T* rv = static_cast<T*>(running_var);
  rm[c] = static_cast<T>((1 - mom) * rm[c] + mom * mean);
  rv[c] = static_cast<T>((1 - mom) * rv[c] + mom * var * m / (m - 1));
}

// One tile of a chain's output pixels per block: the spatial outputs of the tile go to shared
// memory (and to `keep`), then each thread takes one output channel over rows of the tile.
template <typename T>
__global__ void __launch_bounds__(kThreads) chain_forward_kernel(ChainForwardLaunch L) {
  __shared__ T tile[kTileBytes / sizeof(T)];
  __shared__ double scratch[kThreads];
  __shared__ int flag;
  const int p = problem_of(L.chain, L.count, int(blockIdx.x));
  const ChainForward& ch = L.chain[p];
  const int tile_index = int(blockIdx.x) - ch.first_tile;
  const int64_t oh = ch.out.h, ow = ch.out.w, cin = ch.in.c, cout = ch.cout;
  const int64_t total = int64_t{L.batch} * oh * ow;
  const int64_t pix0 = int64_t{tile_index} * ch.tile_pixels;
  const int64_t npix = total - pix0 < ch.tile_pixels ? total - pix0 : ch.tile_pixels;

  for (int64_t i = threadIdx.x; i < npix * cin; i += blockDim.x) {
    const int64_t pl = i / cin, c = i % cin;
    const Pixel px = pixel_of(pix0 + pl, oh, ow);
    const T v = spatial_value<T>(ch.in, ch.act, ch.act_stats, ch.spatial, px.n, px.y, px.x, c);
    tile[i] = v;
    if (ch.keep.data != nullptr) at<T>(ch.keep, px.n, px.y, px.x)[c] = v;
  }
  __syncthreads();

  const LaneMap m(static_cast<int>(cout));
  const T* pw = static_cast<const T*>(ch.pw);
  for (int64_t c0 = 0; c0 < cout; c0 += m.lanes) {
    const int64_t co = c0 + m.lane;
    const bool mine = m.active() && co < cout;
    double s1 = 0, s2 = 0;
    if (mine) {
      for (int64_t pl = m.row; pl < npix; pl += m.rows) {
        T v;
        if (pw != nullptr) {
          v = T(0);
          for (int64_t ci = 0; ci < cin; ++ci) v += tile[pl * cin + ci] * pw[co * cin + ci];
        } else {
          v = tile[pl * cin + co];
        }
        const Pixel px = pixel_of(pix0 + pl, oh, ow);
        at<T>(ch.out, px.n, px.y, px.x)[co] = v;
        s1 += v;
        s2 += static_cast<double>(v) * v;
      }
    }
    if (L.compute_stats) {
      const double t1 = sum_over_rows(s1, m, scratch);
      const double t2 = sum_over_rows(s2, m, scratch);
      if (mine && m.row == 0) {
        double* part = L.partials + ch.partial_offset + int64_t{tile_index} * 2 * cout;
        part[co] = t1;
        part[cout + co] = t2;
      }
    }
  }
  if (!L.compute_stats || !last_block(L.counters, p, ch.tiles, &flag)) return;
  const double mcount = static_cast<double>(total);
  for (int64_t co = threadIdx.x; co < cout; co += blockDim.x) {
    double s1 = 0, s2 = 0;
    for (int t = 0; t < ch.tiles; ++t) {
      const double* part = L.partials + ch.partial_offset + int64_t{t} * 2 * cout;
      s1 += part[co];
      s2 += part[cout + co];
    }
    const double mean = s1 / mcount;
    double var = s2 / mcount - mean * mean;
    var = var > 0 ? var : 0;
    static_cast<T*>(ch.stats.mean)[co] = static_cast<T>(mean);
    static_cast<T*>(ch.stats.invstd)[co] = static_cast<T>(1.0 / sqrt(var + L.eps));
    update_running<T>(ch.running_mean, ch.running_var, ch.repeats, co, mean, var, mcount,
                      L.momentum);
    for (int x = 0; x < L.extra_count; ++x) {
      if (L.extra[x].chain != p) continue;
      update_running<T>(L.extra[x].running_mean, L.extra[x].running_var, L.extra[x].repeats, co,
                        mean, var, mcount, L.momentum);
    }
  }
}

template <typename T>
__global__ void running_stats_kernel(RunningStatsLaunch L) {
  const RunningToStats& e = L.entry[blockIdx.x];
  for (int64_t c = threadIdx.x; c < e.c; c += blockDim.x) {
    static_cast<T*>(e.stats.mean)[c] = ld<T>(e.running_mean, c);
    static_cast<T*>(e.stats.invstd)[c] =
        static_cast<T>(1.0 / sqrt(static_cast<double>(ld<T>(e.running_var, c)) + L.eps));
  }
}

template <typename T>
__global__ void normalize_kernel(NormalizeLaunch L) {
  for (int k = 0; k < L.count; ++k) {
    const View& x = L.x[k];
    const int64_t total = int64_t{L.batch} * x.h * x.w * x.c;
    for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
      const int64_t c = i % x.c, pix = i / x.c;
      T* v = static_cast<T*>(x.data) + pix * x.row + c;
      *v = (*v - ld<T>(L.stats[k].mean, c)) * ld<T>(L.stats[k].invstd, c);
    }
  }
}

// node = (accumulate ? node : 0) + sum over terms of mix * bn(src), one element per thread.
template <typename T>
__global__ void node_forward_kernel(NodeLaunch L) {
  const bool f64 = sizeof(T) == sizeof(double);
  const View& out = L.node;
  const int64_t total = int64_t{L.batch} * out.h * out.w * out.c;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const int64_t c = i % out.c, pix = i / out.c;
    T* dst = static_cast<T*>(out.data) + pix * out.row + c;
    T acc = L.accumulate ? *dst : T(0);
    for (int t = 0; t < L.count; ++t) {
      const Term& term = L.term[t];
      T v = static_cast<const T*>(term.src.data)[pix * term.src.row + c];
      if (term.stats.mean != nullptr)
        v = (v - ld<T>(term.stats.mean, c)) * ld<T>(term.stats.invstd, c);
      acc += static_cast<T>(mix_value(term.weight, L.mix, f64)) * v;
    }
    *dst = acc;
  }
}

}  // namespace

int cell_tile_elements(ScalarType type) {
  return kTileBytes / (type == ScalarType::F64 ? 8 : 4);
}

int cell_chain_tile_pixels(ScalarType type, int cin, int) {
  const int elems = cell_tile_elements(type);
  const int pixels = elems / (cin > 0 ? cin : 1);
  return pixels < 1 ? 1 : (pixels > 256 ? 256 : pixels);
}

cudaError_t cell_chain_forward(ScalarType type, const cell::ChainForwardLaunch& launch,
                               cudaStream_t stream) {
  if (launch.count == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    chain_forward_kernel<T><<<launch.total_tiles, kThreads, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

cudaError_t cell_running_stats(ScalarType type, const cell::RunningStatsLaunch& launch,
                               cudaStream_t stream) {
  if (launch.count == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    running_stats_kernel<T><<<launch.count, 64, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

cudaError_t cell_normalize(ScalarType type, const cell::NormalizeLaunch& launch,
                           cudaStream_t stream) {
  int64_t total = 0;
  for (int k = 0; k < launch.count; ++k)
    total += int64_t{launch.batch} * launch.x[k].h * launch.x[k].w * launch.x[k].c;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    normalize_kernel<T><<<grid_for(total), 256, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

cudaError_t cell_node_forward(ScalarType type, const cell::NodeLaunch& launch,
                              cudaStream_t stream) {
  const int64_t total = int64_t{launch.batch} * launch.node.h * launch.node.w * launch.node.c;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    node_forward_kernel<T><<<grid_for(total), 256, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
