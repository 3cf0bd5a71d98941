// The CPU backward stage of the fused DARTS cell, one pass per sample: each chain's gradient
// through its batch norm and pointwise convolution (and the weights' gradients), then at once
// through its spatial stage into the input it reads, summed there with the input's other paths.
// The gradient between the two halves lives only in per-sample scratch.
#include "core/dispatch.h"
#include "fusenas/engine/error.h"
#include "ops/cpu/darts_cell.h"
#include "ops/cpu/darts_cell_common.h"

namespace fusenas::cpu {
namespace {

using namespace cell;
using cell_run::BackwardStage;
using cell_run::GatherList;

// A pool's edges with what scatter_pool needs from the stage.
struct PoolRef {
  const GatherPoolEdge* edges;
  int count;
  int64_t batch;
  bool training;
  const void* mix;
};

// gp = scale * invstd * (g - g_sum / m - xhat * gx_sum / m) (training) or scale * invstd * g,
// written as gp = alpha * g + beta * out + gamma per channel.
template <typename T>
void bn_backward_coefficients(const ChainBackward& ch, T scale, T inv_m, bool training,
                              std::vector<T>& coef) {
  const int64_t c = ch.cout;
  coef.resize(3 * c);
  const T* mean = ptr<T>(ch.stats.mean);
  const T* invstd = ptr<T>(ch.stats.invstd);
  for (int64_t co = 0; co < c; ++co) {
    const T k = scale * invstd[co];
    if (!training) {
      coef[co] = k;
      coef[c + co] = T(0);
      coef[2 * c + co] = T(0);
      continue;
    }
    const T gs = ptr<T>(ch.g_sum)[co] * inv_m, gxs = ptr<T>(ch.gx_sum)[co] * inv_m;
    // xhat = out (already normalised) or (out - mean) * invstd.
    const T xs = ch.out_normalized ? T(1) : invstd[co];
    const T xb = ch.out_normalized ? T(0) : -mean[co] * invstd[co];
    coef[co] = k;
    coef[c + co] = -k * gxs * xs;
    coef[2 * c + co] = -k * (gs + gxs * xb);
  }
}

// Adds spatial^T(gd) of chain `index` for sample n into acc [h, w, c] (the target's layout).
// A stride-1 depthwise stage's transpose is a forward correlation of its zero-padded gradient with
// the flipped taps; other strides scatter.
template <typename T, typename CT>
FUSENAS_CONV_INLINE void scatter_chain(const GatherChain& chain, int index, int64_t n, int64_t h,
                                       int64_t w, CT c, T* acc, Scratch<T>& sc) {
  const SpatialStage& s = chain.spatial;
  const View& gd = chain.gd;
  if (s.kind == Spatial::Subsample) {
    for (int64_t oy = 0; oy < gd.h; ++oy)
      for (int64_t ox = 0; ox < gd.w; ++ox) {
        const T* __restrict g = at<T>(gd, n, oy, ox);
        T* __restrict dst = acc + ((oy * s.stride + s.offset) * w + ox * s.stride + s.offset) * c;
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] += g[ch];
      }
    return;
  }
  const bool correlate = s.stride == 1 && 2 * s.pad == s.dilation * (s.k - 1);
  if (sc.taps_of != index) {
    tap_major<T>(s, c, sc.taps, correlate);
    sc.taps_of = index;
  }
  const int64_t k = s.k;
  if (correlate) {
    int64_t wp = 0;
    const T* padded = padded_input<T>(sc, gd, n, Act::None, Stats{}, s.pad, s.pad, c, wp);
    depthwise_forward<T>(padded, wp, sc.taps.data(), s, h, w, c, acc, c, /*accumulate=*/true);
    return;
  }
  for (int64_t oy = 0; oy < gd.h; ++oy) {
    for (int64_t ox = 0; ox < gd.w; ++ox) {
      const T* __restrict g = at<T>(gd, n, oy, ox);
      for (int64_t ky = 0; ky < k; ++ky) {
        const int64_t iy = oy * s.stride + ky * s.dilation - s.pad;
        if (iy < 0 || iy >= h) continue;
        for (int64_t kx = 0; kx < k; ++kx) {
          const int64_t ix = ox * s.stride + kx * s.dilation - s.pad;
          if (ix < 0 || ix >= w) continue;
          const T* __restrict tw = sc.taps.data() + (ky * k + kx) * c;
          T* __restrict dst = acc + (iy * w + ix) * c;
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) dst[ch] += g[ch] * tw[ch];
        }
      }
    }
  }
}

// Adds a pool's input gradient for sample n into acc [h, w, c].
template <typename T, typename CT>
FUSENAS_CONV_INLINE void scatter_pool(const PoolRef& L, const GatherPool& pool, const View& in,
                                      int64_t n, CT c, T* acc, std::vector<T>& coef) {
  const bool f64 = std::is_same_v<T, double>;
  const View& pooled = pool.pooled;
  const T inv_m = T(1) / static_cast<T>(int64_t{L.batch} * pooled.h * pooled.w);
  // gq = sum over edges of k_e * g_e + kx * pooled + k0, per channel.
  const int edges = L.count;
  coef.assign((edges + 2) * c, T(0));
  T* kx = coef.data() + edges * c;
  T* k0 = kx + c;
  for (int e = 0; e < edges; ++e) {
    const GatherPoolEdge& pe = L.edges[e];
    const T w = static_cast<T>(mix_value(pe.weight, L.mix, f64));
    for (int64_t ch = 0; ch < c; ++ch) {
      const T inv = ptr<T>(pe.stats.invstd)[ch];
      coef[e * c + ch] = w * inv;
      if (L.training) {
        const T gs = ptr<T>(pe.g_sum)[ch] * inv_m, gxs = ptr<T>(pe.gx_sum)[ch] * inv_m;
        kx[ch] -= w * inv * gxs * inv;
        k0[ch] -= w * inv * (gs - gxs * inv * ptr<T>(pe.stats.mean)[ch]);
      }
    }
  }
  const bool max = pool.kind == PoolKind::Max;
  T gq[256];
  for (int64_t oy = 0; oy < pooled.h; ++oy) {
    for (int64_t ox = 0; ox < pooled.w; ++ox) {
      const T* __restrict pv = at<T>(pooled, n, oy, ox);
      for (int64_t c0 = 0; c0 < c; c0 += 256) {
        const int64_t cn = std::min<int64_t>(256, c - c0);
        for (int64_t ch = 0; ch < cn; ++ch) gq[ch] = kx[c0 + ch] * pv[c0 + ch] + k0[c0 + ch];
        for (int e = 0; e < edges; ++e) {
          const T* __restrict g = at<T>(L.edges[e].g, n, oy, ox) + c0;
          const T* __restrict ke = coef.data() + e * c + c0;
#pragma omp simd
          for (int64_t ch = 0; ch < cn; ++ch) gq[ch] += ke[ch] * g[ch];
        }
        const Window win = pool_window(oy, ox, pool.stride, in.h, in.w);
        if (max) {
          // The window's first maximum takes the gradient: `left` drops to 0 once it is found.
          T left[256];
          for (int64_t ch = 0; ch < cn; ++ch) left[ch] = T(1);
          for (int64_t y = win.y0; y < win.y1; ++y)
            for (int64_t x = win.x0; x < win.x1; ++x) {
              const T* __restrict src = at<T>(in, n, y, x) + c0;
              T* __restrict dst = acc + (y * in.w + x) * c + c0;
              const T* __restrict best = pv + c0;
#pragma omp simd
              for (int64_t ch = 0; ch < cn; ++ch) {
                const T hit = src[ch] == best[ch] ? left[ch] : T(0);
                dst[ch] += hit * gq[ch];
                left[ch] -= hit;
              }
            }
        } else {
          const T inv = T(1) / static_cast<T>(win.count());
          for (int64_t ch = 0; ch < cn; ++ch) gq[ch] *= inv;
          for (int64_t y = win.y0; y < win.y1; ++y)
            for (int64_t x = win.x0; x < win.x1; ++x) {
              T* __restrict dst = acc + (y * in.w + x) * c + c0;
#pragma omp simd
              for (int64_t ch = 0; ch < cn; ++ch) dst[ch] += gq[ch];
            }
        }
      }
    }
  }
}

// gd [pixels, cin] of one sample for chain p (plus its weights' gradients into acc): the
// incoming gradient through the chain's batch norm, then its pointwise convolution.
template <typename T>
FUSENAS_CONV_INLINE void chain_item(const BackwardStage& st, const ChainPrep<T>& prep, int p,
                                    int64_t n, Scratch<T>& sc, double* acc, T* gd) {
  const bool f64 = std::is_same_v<T, double>;
  const ChainBackward& ch = st.chains[p];
  const int64_t oh = ch.out.h, ow = ch.out.w, pixels = oh * ow, cin = ch.in.c, cout = ch.cout;
  const T* d = nullptr;
  if (ch.pw_grad != nullptr) {
    if (ch.d.data != nullptr) {
      d = sample<T>(ch.d, n);
    } else {
      sc.d.resize(pixels * cin);
      spatial_forward<T>(ch, prep, p, n, sc, sc.d.data());
      d = sc.d.data();
    }
  }
  if (sc.coef_of != p) {
    bn_backward_coefficients<T>(ch, static_cast<T>(mix_value(ch.scale, st.mix, f64)),
                                T(1) / static_cast<T>(st.batch * pixels), st.training, sc.coef);
    sc.coef_of = p;
  }
  sc.b.resize(pixels * cout);
  T* gp = sc.b.data();
  with_channels(cout, [&](auto c) FUSENAS_CELL_LAMBDA {
    const T* __restrict ca = sc.coef.data();
    const T* __restrict cb = sc.coef.data() + c;
    const T* __restrict cg = sc.coef.data() + 2 * c;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const T* __restrict g = at<T>(ch.g, n, oy, ox);
        const T* __restrict o = at<T>(ch.out, n, oy, ox);
        T* __restrict dst = gp + (oy * ow + ox) * c;
#pragma omp simd
        for (int64_t co = 0; co < c; ++co) dst[co] = ca[co] * g[co] + cb[co] * o[co] + cg[co];
      }
  });
  with_channels(cin, [&](auto c) FUSENAS_CELL_LAMBDA {
    pointwise<T>(gp, pixels, cout, ptr<T>(ch.pw), cout, c, gd, c);
  });
  if (ch.pw_grad != nullptr) {
    sc.a.assign(cout * cin, T(0));
    with_channels(cin, [&](auto c) FUSENAS_CELL_LAMBDA {
      pointwise_weight_grad<T>(gp, pixels, cout, cout, d, cin, c, sc.a.data());
    });
    for (int64_t i = 0; i < cout * cin; ++i) acc[i] += sc.a[i];
    acc += cout * cin;
  }
  if (ch.dw_grad != nullptr && ch.spatial.kind == Spatial::Depthwise) {
    const SpatialStage& s = ch.spatial;
    const int64_t k = s.k;
    sc.a.resize(k * k * cin);
    with_channels(cin, [&](auto c) FUSENAS_CELL_LAMBDA {
      int64_t wp = 0;
      const T* padded =
          padded_input<T>(sc, ch.in, n, ch.act, ch.act_stats, s.pad, prep.max_pad[p], c, wp);
      depthwise_weight_grad<T>(padded, wp, gd, c, s, oh, ow, c, sc.a.data());
    });
    for (int64_t c2 = 0; c2 < cin; ++c2)
      for (int64_t t = 0; t < k * k; ++t) acc[c2 * k * k + t] += sc.a[t * cin + c2];
  }
}

// Where each chain's and each target's sums live in a range's accumulators.
struct StageLayout {
  std::vector<int64_t> chain, target;
  std::vector<char> orphan;  // chains no target reads (only their weights' gradients are wanted)
  int64_t width = 0;
};

StageLayout layout_of(const BackwardStage& st) {
  StageLayout l;
  l.orphan.assign(st.chains.size(), 1);
  for (const auto& t : st.gather.targets)
    for (const auto& c : t.chains) l.orphan.at(c.source) = 0;
  for (const ChainBackward& ch : st.chains) {
    l.chain.push_back(l.width);
    const int64_t k = ch.spatial.kind == Spatial::Depthwise ? ch.spatial.k : 0;
    l.width += (ch.pw_grad ? ch.cout * ch.in.c : 0) + (ch.dw_grad ? ch.in.c * k * k : 0);
  }
  for (const auto& t : st.gather.targets) {
    l.target.push_back(l.width);
    l.width += t.target.g_sum != nullptr ? 2 * t.target.in.c : 0;
  }
  return l;
}

template <typename T>
FUSENAS_CONV_INLINE void stage_range(const BackwardStage& st, const ChainPrep<T>& prep,
                                     const StageLayout& lay, double* acc, int64_t begin,
                                     int64_t end) {
  const bool f64 = std::is_same_v<T, double>;
  Scratch<T> sc;   // the chains' inputs
  Scratch<T> gsc;  // the gradients' padding for the transposed depthwise
  std::vector<T> chains, gd;
  for (int64_t n = begin; n < end; ++n) {
    for (size_t t = 0; t < st.gather.targets.size(); ++t) {
      const GatherList::Target& target = st.gather.targets[t];
      const GatherTarget& tg = target.target;
      const int64_t h = tg.in.h, w = tg.in.w;
      T* grad = sample<T>(tg.grad, n);
      with_channels(tg.in.c, [&](auto c) FUSENAS_CELL_LAMBDA {
        chains.assign(h * w * c, T(0));
        for (const GatherChain& gc : target.chains) {
          const ChainBackward& ch = st.chains[gc.source];
          gd.resize(int64_t{ch.out.h} * ch.out.w * c);
          chain_item<T>(st, prep, gc.source, n, sc, acc + lay.chain[gc.source], gd.data());
          GatherChain local = gc;
          local.gd =
              View{gd.data(), ch.out.h, ch.out.w, static_cast<int32_t>(c), static_cast<int32_t>(c)};
          gsc.padded_src = nullptr;  // the scratch gd is rewritten for every chain
          scatter_chain<T>(local, -1 - gc.source, 0, h, w, c, chains.data(), gsc);
        }
        const T* mean = ptr<T>(tg.act_stats.mean);
        const T* invstd = ptr<T>(tg.act_stats.invstd);
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) {
            const T* __restrict in = at<T>(tg.in, n, y, x);
            const T* __restrict cg = chains.data() + (y * w + x) * c;
            T* __restrict dst = grad + (y * w + x) * c;
            if (tg.act == Act::BnRelu) {
#pragma omp simd
              for (int64_t k = 0; k < c; ++k)
                dst[k] = (in[k] - mean[k]) * invstd[k] > T(0) ? cg[k] : T(0);
            } else {
#pragma omp simd
              for (int64_t k = 0; k < c; ++k) dst[k] = in[k] > T(0) ? cg[k] : T(0);
            }
            if (tg.base.data != nullptr) {
              const T* __restrict base = at<T>(tg.base, n, y, x);
#pragma omp simd
              for (int64_t k = 0; k < c; ++k) dst[k] += base[k];
            }
            for (const GatherIdentity& id : target.identities) {
              const T wv = static_cast<T>(mix_value(id.weight, st.mix, f64));
              const T* __restrict g = at<T>(id.g, n, y, x);
#pragma omp simd
              for (int64_t k = 0; k < c; ++k) dst[k] += wv * g[k];
            }
          }
        for (const auto& [pool, edges] : target.pools) {
          const PoolRef ref{edges.data(), static_cast<int>(edges.size()), st.batch, st.training,
                            st.mix};
          scatter_pool<T>(ref, pool, tg.in, n, c, grad, sc.coef);
          sc.coef_of = Scratch<T>::kNone;  // scatter_pool borrowed the coefficient scratch
        }
        if (tg.g_sum == nullptr) return;
        // Per image row in T, then into the double sums.
        double* s = acc + lay.target[t];
        for (int64_t y = 0; y < h; ++y) {
          sc.a.assign(2 * c, T(0));
          T* __restrict s1 = sc.a.data();
          T* __restrict s2 = sc.a.data() + c;
          for (int64_t x = 0; x < w; ++x) {
            const T* __restrict gv = grad + (y * w + x) * c;
            const T* __restrict in = at<T>(tg.in, n, y, x);
#pragma omp simd
            for (int64_t k = 0; k < c; ++k) {
              const T xhat = tg.act == Act::BnRelu ? (in[k] - mean[k]) * invstd[k] : in[k];
              s1[k] += gv[k];
              s2[k] += gv[k] * xhat;
            }
          }
          for (int64_t k = 0; k < c; ++k) {
            s[k] += s1[k];
            s[c + k] += s2[k];
          }
        }
      });
    }
    for (size_t p = 0; p < st.chains.size(); ++p) {
      if (!lay.orphan[p]) continue;
      const ChainBackward& ch = st.chains[p];
      gd.resize(int64_t{ch.out.h} * ch.out.w * ch.in.c);
      chain_item<T>(st, prep, static_cast<int>(p), n, sc, acc + lay.chain[p], gd.data());
    }
  }
}
FUSENAS_CELL_RANGE_ENTRY(stage_range)

template <typename T>
void backward_stage(const BackwardStage& st) {
  for (const auto& t : st.gather.targets)
    FUSENAS_CHECK(t.target.grad.row == t.target.in.c,
                  "internal: darts_cell gathers into dense tensors");
  const StageLayout lay = layout_of(st);
  const ChainPrep<T> prep(st.chains.data(), static_cast<int>(st.chains.size()));
  RangeSums sums(range_count(st.batch), lay.width);
  for_batch_ranges(st.batch, [&](int r, int64_t begin, int64_t end) {
    stage_range_any<T>(st, prep, lay, sums.range(r), begin, end);
  });
  const std::vector<double> total = sums.total();
  for (size_t p = 0; p < st.chains.size(); ++p) {
    const ChainBackward& ch = st.chains[p];
    const double* a = total.data() + lay.chain[p];
    auto store = [&](void* dst, int64_t count) {
      T* out = static_cast<T*>(dst);
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(a[i]);
      a += count;
    };
    if (ch.pw_grad != nullptr) store(ch.pw_grad, ch.cout * ch.in.c);
    if (ch.dw_grad != nullptr && ch.spatial.kind == Spatial::Depthwise)
      store(ch.dw_grad, ch.in.c * ch.spatial.k * ch.spatial.k);
  }
  for (size_t t = 0; t < st.gather.targets.size(); ++t) {
    const GatherTarget& tg = st.gather.targets[t].target;
    if (tg.g_sum == nullptr) continue;
    const double* s = total.data() + lay.target[t];
    for (int64_t c = 0; c < tg.in.c; ++c) {
      static_cast<T*>(tg.g_sum)[c] = static_cast<T>(s[c]);
      static_cast<T*>(tg.gx_sum)[c] = static_cast<T>(s[tg.in.c + c]);
    }
  }
}

}  // namespace

void cell_backward_stage(DType dtype, const cell_run::BackwardStage& stage) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { backward_stage<T>(stage); });
}

}  // namespace fusenas::cpu
