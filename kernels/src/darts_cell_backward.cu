// Backward kernels of the fused DARTS cell: per-node gradient sums (batch-norm backward terms and
// the mixing weights' gradient), the weight side of each chain (batch norm, pointwise and
// depthwise weights' gradients, the gradient at its spatial output), and the gathers that sum
// every path's gradient into each input once.
#include "darts_cell_common.cuh"
#include "fusenas/kernels/darts_cell.h"

namespace fusenas::kernels {
namespace {

using namespace cell_detail;

// Per tile of node pixels: sum g and sum g * src_t per channel; the last block turns them into
// g_sum, each term's sum g * y_t (the batch norm applied: invstd * (sum g * src - mean * sum g))
// and the mixing weights' gradient sum over channels of that.
template <typename T>
__global__ void __launch_bounds__(kThreads) node_sums_kernel(NodeLaunch L) {
  __shared__ double scratch[kThreads];
  __shared__ int flag;
  const View& g = L.node;
  const int64_t c = g.c, total = int64_t{L.batch} * g.h * g.w;
  const int64_t pix0 = int64_t{blockIdx.x} * L.tile_pixels;
  const int64_t npix = total - pix0 < L.tile_pixels ? total - pix0 : L.tile_pixels;
  const LaneMap m(static_cast<int>(c));
  const int64_t width = int64_t{L.count + 1} * c;
  double* part = L.partials + int64_t{blockIdx.x} * width;
  for (int k = -1; k < L.count; ++k) {
    for (int64_t c0 = 0; c0 < c; c0 += m.lanes) {
      const int64_t ch = c0 + m.lane;
      const bool mine = m.active() && ch < c;
      double s = 0;
      if (mine) {
        for (int64_t pl = m.row; pl < npix; pl += m.rows) {
          const int64_t pix = pix0 + pl;
          const double gv = static_cast<const T*>(g.data)[pix * g.row + ch];
          s += k < 0 ? gv
                     : gv * static_cast<const T*>(L.term[k].src.data)[pix * L.term[k].src.row + ch];
        }
      }
      const double t = sum_over_rows(s, m, scratch);
      if (mine && m.row == 0) part[(k + 1) * c + ch] = t;
    }
  }
  if (!last_block(L.counters, 0, L.tiles, &flag)) return;
  // Thread k + 1 finishes term k (thread 0: g_sum).
  for (int k = int(threadIdx.x) - 1; k < L.count; k += blockDim.x) {
    double alpha = 0;
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0, gs = 0;
      for (int b = 0; b < L.tiles; ++b) {
        s += L.partials[int64_t{b} * width + (k + 1) * c + ch];
        if (k >= 0) gs += L.partials[int64_t{b} * width + ch];
      }
      if (k < 0) {
        if (L.g_sum != nullptr) static_cast<T*>(L.g_sum)[ch] = static_cast<T>(s);
        continue;
      }
      const Term& term = L.term[k];
      if (term.stats.mean != nullptr) {
        s = static_cast<double>(ld<T>(term.stats.invstd, ch)) *
            (s - static_cast<double>(ld<T>(term.stats.mean, ch)) * gs);
      }
      if (term.gx_sum != nullptr) static_cast<T*>(term.gx_sum)[ch] = static_cast<T>(s);
      alpha += s;
    }
    if (k >= 0 && L.term[k].alpha_index >= 0 && L.alpha_grad != nullptr)
      static_cast<T*>(L.alpha_grad)[L.term[k].alpha_index] = static_cast<T>(alpha);
  }
}

// The incoming gradient through a chain's batch norm at output pixel `pix`, channel co.
template <typename T>
__device__ __forceinline__ T bn_grad(const ChainBackward& ch, const void* mix, bool training,
                                     int64_t pix, int64_t co, double inv_m) {
  const bool f64 = sizeof(T) == sizeof(double);
  const T scale = static_cast<T>(mix_value(ch.scale, mix, f64));
  const T g = static_cast<const T*>(ch.g.data)[pix * ch.g.row + co];
  const T invstd = ld<T>(ch.stats.invstd, co);
  if (!training) return scale * invstd * g;
  const T o = static_cast<const T*>(ch.out.data)[pix * ch.out.row + co];
  const T xhat = ch.out_normalized ? o : (o - ld<T>(ch.stats.mean, co)) * invstd;
  const T im = static_cast<T>(inv_m);
  return scale * invstd * (g - ld<T>(ch.g_sum, co) * im - xhat * ld<T>(ch.gx_sum, co) * im);
}

// One tile of a chain's output pixels per block: the batch norm's input gradient gp and the
// spatial output d (recomputed unless kept) in shared memory; then gd = gp . pw written out, and
// one partial per block of the pointwise weights' gradient gp^T d and of the depthwise weights'
// gradient (gd against the activated input under each tap).
template <typename T>
__global__ void __launch_bounds__(kThreads) chain_backward_kernel(ChainBackwardLaunch L) {
  __shared__ T tile[kTileBytes / sizeof(T)];
  __shared__ int flag;
  const int p = problem_of(L.chain, L.count, int(blockIdx.x));
  const ChainBackward& ch = L.chain[p];
  const int tile_index = int(blockIdx.x) - ch.first_tile;
  const int64_t oh = ch.out.h, ow = ch.out.w, cin = ch.in.c, cout = ch.cout;
  const int64_t total = int64_t{L.batch} * oh * ow;
  const int64_t pix0 = int64_t{tile_index} * ch.tile_pixels;
  const int64_t npix = total - pix0 < ch.tile_pixels ? total - pix0 : ch.tile_pixels;
  const bool dw = ch.dw_grad != nullptr && ch.spatial.kind == Spatial::Depthwise;
  const int64_t kk = dw ? int64_t{ch.spatial.k} * ch.spatial.k : 0;
  T* d = tile;                          // [npix, cin]
  T* gp = tile + ch.tile_pixels * cin;  // [npix, cout]
  T* gd = gp + ch.tile_pixels * cout;   // [npix, cin]

  if (ch.pw_grad != nullptr) {
    for (int64_t i = threadIdx.x; i < npix * cin; i += blockDim.x) {
      const int64_t pl = i / cin, c = i % cin;
      const Pixel px = pixel_of(pix0 + pl, oh, ow);
      d[i] = ch.d.data != nullptr
                 ? at<T>(ch.d, px.n, px.y, px.x)[c]
                 : spatial_value<T>(ch.in, ch.act, ch.act_stats, ch.spatial, px.n, px.y, px.x, c);
    }
  }
  const double inv_m = 1.0 / static_cast<double>(total);
  for (int64_t i = threadIdx.x; i < npix * cout; i += blockDim.x)
    gp[i] = bn_grad<T>(ch, L.mix, L.training != 0, pix0 + i / cout, i % cout, inv_m);
  __syncthreads();
  const T* pw = static_cast<const T*>(ch.pw);
  for (int64_t i = threadIdx.x; i < npix * cin; i += blockDim.x) {
    const int64_t pl = i / cin, c = i % cin;
    T v = T(0);
    for (int64_t co = 0; co < cout; ++co) v += gp[pl * cout + co] * pw[co * cin + c];
    gd[i] = v;
    const Pixel px = pixel_of(pix0 + pl, oh, ow);
    at<T>(ch.gd, px.n, px.y, px.x)[c] = v;
  }
  __syncthreads();
  const int64_t width = (ch.pw_grad ? cout * cin : 0) + kk * cin;
  double* part = L.partials + ch.partial_offset + int64_t{tile_index} * width;
  if (ch.pw_grad != nullptr) {
    for (int64_t i = threadIdx.x; i < cout * cin; i += blockDim.x) {
      const int64_t co = i / cin, c = i % cin;
      double s = 0;
      for (int64_t pl = 0; pl < npix; ++pl)
        s += static_cast<double>(gp[pl * cout + co]) * d[pl * cin + c];
      part[i] = s;
    }
    part += cout * cin;
  }
  if (dw) {
    const SpatialStage& s = ch.spatial;
    for (int64_t i = threadIdx.x; i < kk * cin; i += blockDim.x) {
      const int64_t c = i / kk, tap = i % kk, ky = tap / s.k, kx = tap % s.k;
      double acc = 0;
      for (int64_t pl = 0; pl < npix; ++pl) {
        const Pixel px = pixel_of(pix0 + pl, oh, ow);
        const int64_t iy = px.y * s.stride - s.pad + ky * s.dilation;
        const int64_t ix = px.x * s.stride - s.pad + kx * s.dilation;
        if (iy < 0 || iy >= ch.in.h || ix < 0 || ix >= ch.in.w) continue;
        acc += static_cast<double>(gd[pl * cin + c]) *
               activate<T>(ch.act, ch.act_stats, at<T>(ch.in, px.n, iy, ix)[c], c);
      }
      part[i] = acc;
    }
  }
  if (width == 0 || !last_block(L.counters, p, ch.tiles, &flag)) return;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    double s = 0;
    for (int b = 0; b < ch.tiles; ++b) s += L.partials[ch.partial_offset + int64_t{b} * width + i];
    T* dst;
    int64_t j = i;
    if (ch.pw_grad != nullptr && j < cout * cin) {
      dst = static_cast<T*>(ch.pw_grad) + j;
    } else {
      if (ch.pw_grad != nullptr) j -= cout * cin;
      dst = static_cast<T*>(ch.dw_grad) + j;  // laid out [cin, k, k] like the weight
    }
    *dst = L.accumulate_grads ? *dst + static_cast<T>(s) : static_cast<T>(s);
  }
}

// spatial^T(gd) of one chain at input pixel (n, y, x), channel c.
template <typename T>
__device__ __forceinline__ T chain_transpose(const GatherChain& gc, int64_t h, int64_t w, int64_t n,
                                             int64_t y, int64_t x, int64_t c) {
  const SpatialStage& s = gc.spatial;
  const View& gd = gc.gd;
  if (s.kind == Spatial::Subsample) {
    const int64_t dy = y - s.offset, dx = x - s.offset;
    if (dy < 0 || dx < 0 || dy % s.stride != 0 || dx % s.stride != 0) return T(0);
    const int64_t oy = dy / s.stride, ox = dx / s.stride;
    if (oy >= gd.h || ox >= gd.w) return T(0);
    return at<T>(gd, n, oy, ox)[c];
  }
  T acc = T(0);
  const T* wt = static_cast<const T*>(s.weight) + c * s.k * s.k;
  for (int ky = 0; ky < s.k; ++ky) {
    const int64_t ty = y + s.pad - ky * s.dilation;
    if (ty < 0 || ty % s.stride != 0 || ty / s.stride >= gd.h) continue;
    for (int kx = 0; kx < s.k; ++kx) {
      const int64_t tx = x + s.pad - kx * s.dilation;
      if (tx < 0 || tx % s.stride != 0 || tx / s.stride >= gd.w) continue;
      acc += at<T>(gd, n, ty / s.stride, tx / s.stride)[c] * wt[ky * s.k + kx];
    }
  }
  (void)h;
  (void)w;
  return acc;
}

// A pool's gradient at input pixel (n, y, x), channel c: over the pool outputs whose window holds
// the pixel, their gradient (the edges' batch-norm backward, summed) routed to the window's first
// maximum, or shared over its taps.
template <typename T>
__device__ __forceinline__ T pool_transpose(const GatherLaunch& L, const GatherPool& pool,
                                            const View& in, int64_t n, int64_t y, int64_t x,
                                            int64_t c) {
  const bool f64 = sizeof(T) == sizeof(double);
  const View& pooled = pool.pooled;
  const double inv_m = 1.0 / (static_cast<double>(L.batch) * pooled.h * pooled.w);
  const bool max = pool.kind == PoolKind::Max;
  T acc = T(0);
  // Outputs q whose window [q * s - 1, q * s + 1] holds y.
  // (y - 1) / stride truncates -1 to 0, the first row there is.
  for (int64_t qy = (y - 1) / pool.stride; qy <= (y + 1) / pool.stride; ++qy) {
    if (qy < 0 || qy >= pooled.h || y < qy * pool.stride - 1 || y > qy * pool.stride + 1) continue;
    for (int64_t qx = (x - 1) / pool.stride; qx <= (x + 1) / pool.stride; ++qx) {
      if (qx < 0 || qx >= pooled.w || x < qx * pool.stride - 1 || x > qx * pool.stride + 1)
        continue;
      const Window win = pool_window(qy, qx, pool.stride, in.h, in.w);
      const T pv = at<T>(pooled, n, qy, qx)[c];
      if (max) {
        // Is (y, x) the window's first maximum?
        bool first = false, found = false;
        for (int64_t wy = win.y0; wy < win.y1 && !found; ++wy)
          for (int64_t wx = win.x0; wx < win.x1 && !found; ++wx)
            if (at<T>(in, n, wy, wx)[c] == pv) {
              found = true;
              first = wy == y && wx == x;
            }
        if (!first) continue;
      }
      T gq = T(0);
      for (int e = pool.first_edge; e < pool.first_edge + pool.edges; ++e) {
        const GatherPoolEdge& pe = L.pool_edge[e];
        const T wv = static_cast<T>(mix_value(pe.weight, L.mix, f64));
        const T invstd = ld<T>(pe.stats.invstd, c);
        const T g = at<T>(pe.g, n, qy, qx)[c];
        if (L.training) {
          const T xhat = (pv - ld<T>(pe.stats.mean, c)) * invstd;
          const T im = static_cast<T>(inv_m);
          gq += wv * invstd * (g - ld<T>(pe.g_sum, c) * im - xhat * ld<T>(pe.gx_sum, c) * im);
        } else {
          gq += wv * invstd * g;
        }
      }
      acc += max ? gq : gq / static_cast<T>((win.y1 - win.y0) * (win.x1 - win.x0));
    }
  }
  return acc;
}

// One tile of a target's pixels per block, a channel per thread lane: every path's gradient at
// the pixel, written once, with the sums for the batch norm that produced the target.
template <typename T>
__global__ void __launch_bounds__(kThreads) gather_kernel(GatherLaunch L) {
  __shared__ double scratch[kThreads];
  __shared__ int flag;
  const bool f64 = sizeof(T) == sizeof(double);
  const int t = problem_of(L.target, L.count, int(blockIdx.x));
  const GatherTarget& tg = L.target[t];
  const int tile_index = int(blockIdx.x) - tg.first_tile;
  const int64_t h = tg.in.h, w = tg.in.w, c = tg.in.c;
  const int64_t total = int64_t{L.batch} * h * w;
  const int64_t pix0 = int64_t{tile_index} * tg.tile_pixels;
  const int64_t npix = total - pix0 < tg.tile_pixels ? total - pix0 : tg.tile_pixels;
  const LaneMap m(static_cast<int>(c));
  for (int64_t c0 = 0; c0 < c; c0 += m.lanes) {
    const int64_t ch = c0 + m.lane;
    const bool mine = m.active() && ch < c;
    double s1 = 0, s2 = 0;
    if (mine) {
      for (int64_t pl = m.row; pl < npix; pl += m.rows) {
        const Pixel px = pixel_of(pix0 + pl, h, w);
        const T in = at<T>(tg.in, px.n, px.y, px.x)[ch];
        T chains = T(0);
        for (int i = tg.first_chain; i < tg.first_chain + tg.chains; ++i)
          chains += chain_transpose<T>(L.chain[i], h, w, px.n, px.y, px.x, ch);
        T g = tg.chains > 0 ? activate_grad<T>(tg.act, tg.act_stats, in, ch) * chains : T(0);
        if (tg.base.data != nullptr) g += at<T>(tg.base, px.n, px.y, px.x)[ch];
        for (int i = tg.first_identity; i < tg.first_identity + tg.identities; ++i) {
          g += static_cast<T>(mix_value(L.identity[i].weight, L.mix, f64)) *
               at<T>(L.identity[i].g, px.n, px.y, px.x)[ch];
        }
        for (int i = tg.first_pool; i < tg.first_pool + tg.pools; ++i)
          g += pool_transpose<T>(L, L.pool[i], tg.in, px.n, px.y, px.x, ch);
        at<T>(tg.grad, px.n, px.y, px.x)[ch] = g;
        if (tg.g_sum != nullptr) {
          const T xhat = tg.act == Act::BnRelu
                             ? (in - ld<T>(tg.act_stats.mean, ch)) * ld<T>(tg.act_stats.invstd, ch)
                             : in;
          s1 += g;
          s2 += static_cast<double>(g) * xhat;
        }
      }
    }
    if (tg.g_sum != nullptr) {
      const double t1 = sum_over_rows(s1, m, scratch);
      const double t2 = sum_over_rows(s2, m, scratch);
      if (mine && m.row == 0) {
        double* part = L.partials + tg.partial_offset + int64_t{tile_index} * 2 * c;
        part[ch] = t1;
        part[c + ch] = t2;
      }
    }
  }
  if (tg.g_sum == nullptr || !last_block(L.counters, t, tg.tiles, &flag)) return;
  for (int64_t ch = threadIdx.x; ch < c; ch += blockDim.x) {
    double s1 = 0, s2 = 0;
    for (int b = 0; b < tg.tiles; ++b) {
      s1 += L.partials[tg.partial_offset + int64_t{b} * 2 * c + ch];
      s2 += L.partials[tg.partial_offset + int64_t{b} * 2 * c + c + ch];
    }
    static_cast<T*>(tg.g_sum)[ch] = static_cast<T>(s1);
    static_cast<T*>(tg.gx_sum)[ch] = static_cast<T>(s2);
  }
}

}  // namespace

int cell_chain_backward_tile_pixels(ScalarType type, int cin, int cout) {
  const int elems = cell_tile_elements(type);
  const int per_pixel = 2 * (cin > 0 ? cin : 1) + (cout > 0 ? cout : 1);
  const int pixels = elems / per_pixel;
  return pixels < 1 ? 1 : (pixels > 128 ? 128 : pixels);
}

int cell_gather_tile_pixels(int channels) {
  const int lanes = channels < kThreads ? channels : kThreads;
  const int rows = kThreads / (lanes > 0 ? lanes : 1);
  return rows * 4;
}

int cell_node_tile_pixels(int channels) {
  return cell_gather_tile_pixels(channels) * 4;
}

cudaError_t cell_node_sums(ScalarType type, const cell::NodeLaunch& launch, cudaStream_t stream) {
  if (launch.tiles == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    node_sums_kernel<T><<<launch.tiles, kThreads, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

cudaError_t cell_chain_backward(ScalarType type, const cell::ChainBackwardLaunch& launch,
                                cudaStream_t stream) {
  if (launch.count == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    chain_backward_kernel<T><<<launch.total_tiles, kThreads, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

cudaError_t cell_gather(ScalarType type, const cell::GatherLaunch& launch, cudaStream_t stream) {
  if (launch.count == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    gather_kernel<T><<<launch.total_tiles, kThreads, 0, stream>>>(launch);
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
