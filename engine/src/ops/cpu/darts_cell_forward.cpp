// CPU forward passes of the fused DARTS cell: chains (activation, spatial stage, pointwise
// convolution, batch-norm statistics), evaluation statistics, normalising the preprocessed
// inputs, and node sums. One parallel region per pass, over (chain, sample) or node rows.
#include "core/dispatch.h"
#include "ops/cpu/darts_cell.h"
#include "ops/cpu/darts_cell_common.h"

namespace fusenas::cpu {
namespace {

using namespace cell;

template <typename T>
void finalize_stats(const ChainForwardLaunch& L, int p, const double* s) {
  const ChainForward& ch = L.chain[p];
  const double m = static_cast<double>(L.batch) * ch.out.h * ch.out.w;
  T* mean = static_cast<T*>(ch.stats.mean);
  T* invstd = static_cast<T*>(ch.stats.invstd);
  for (int64_t co = 0; co < ch.cout; ++co) {
    const double mu = s[co] / m;
    const double var = std::max(s[ch.cout + co] / m - mu * mu, 0.0);
    mean[co] = static_cast<T>(mu);
    invstd[co] = static_cast<T>(1.0 / std::sqrt(var + L.eps));
    // Applied `repeats` times with one batch value: one update with 1 - (1 - m)^repeats.
    auto update = [&](void* running_mean, void* running_var, int repeats) {
      if (running_mean == nullptr) return;
      const double mom = 1 - std::pow(1 - L.momentum, repeats);
      T* rm = static_cast<T*>(running_mean);
      T* rv = static_cast<T*>(running_var);
      rm[co] = static_cast<T>((1 - mom) * rm[co] + mom * mu);
      rv[co] = static_cast<T>((1 - mom) * rv[co] + mom * var * m / (m - 1));
    };
    update(ch.running_mean, ch.running_var, ch.repeats);
    for (int x = 0; x < L.extra_count; ++x)
      if (L.extra[x].chain == p)
        update(L.extra[x].running_mean, L.extra[x].running_var, L.extra[x].repeats);
  }
}

template <typename T>
FUSENAS_CONV_INLINE void chain_forward_range(const ChainForwardLaunch& L, const ChainPrep<T>& prep,
                                             const std::vector<int64_t>& offset, double* acc,
                                             int64_t begin, int64_t end) {
  Scratch<T> sc;
  // Sample-major: the chains reading one state in a row share its padded, activated copy.
  for (int64_t n = begin; n < end; ++n)
    for (const int p : prep.order) {
      const ChainForward& ch = L.chain[p];
      const int64_t pixels = int64_t{ch.out.h} * ch.out.w, cin = ch.in.c;
      // Without a pointwise stage the spatial output is the chain output: write it in place.
      const bool direct = ch.pw == nullptr && ch.out.row == ch.cout;
      sc.d.resize(pixels * cin);
      T* d = direct                    ? sample<T>(ch.out, n)
             : ch.keep.data != nullptr ? sample<T>(ch.keep, n)
                                       : sc.d.data();
      spatial_forward<T>(ch, prep, p, n, sc, d);
      T* y = sample<T>(ch.out, n);
      if (ch.pw != nullptr) {
        with_channels(ch.cout, [&](auto c) FUSENAS_CELL_LAMBDA {
          pointwise<T>(d, pixels, cin, prep.pwt[p].data(), cin, c, y, ch.out.row);
        });
      } else if (!direct) {
        for (int64_t i = 0; i < pixels; ++i)
          std::copy(d + i * cin, d + (i + 1) * cin, y + i * ch.out.row);
      }
      if (L.compute_stats) {
        with_channels(ch.cout, [&](auto c) FUSENAS_CELL_LAMBDA {
          add_moments(y, pixels, ch.out.row, c, acc + offset[p]);
        });
      }
    }
}
FUSENAS_CELL_RANGE_ENTRY(chain_forward_range)

template <typename T>
void chain_forward(const ChainForwardLaunch& L) {
  std::vector<int64_t> offset(L.count + 1, 0);
  for (int p = 0; p < L.count; ++p) offset[p + 1] = offset[p] + 2 * L.chain[p].cout;
  const ChainPrep<T> prep(L.chain, L.count);
  RangeSums sums(range_count(L.batch), offset[L.count]);
  for_batch_ranges(L.batch, [&](int r, int64_t begin, int64_t end) {
    chain_forward_range_any<T>(L, prep, offset, sums.range(r), begin, end);
  });
  if (!L.compute_stats) return;
  const std::vector<double> total = sums.total();
  for (int p = 0; p < L.count; ++p) finalize_stats<T>(L, p, total.data() + offset[p]);
}

template <typename T>
void running_stats(const RunningStatsLaunch& L) {
  for (int i = 0; i < L.count; ++i) {
    const RunningToStats& e = L.entry[i];
    for (int64_t c = 0; c < e.c; ++c) {
      static_cast<T*>(e.stats.mean)[c] = ptr<T>(e.running_mean)[c];
      static_cast<T*>(e.stats.invstd)[c] =
          static_cast<T>(1.0 / std::sqrt(static_cast<double>(ptr<T>(e.running_var)[c]) + L.eps));
    }
  }
}

template <typename T>
void normalize(const NormalizeLaunch& L) {
  for (int p = 0; p < L.count; ++p) {
    const View& x = L.x[p];
    const T* mean = ptr<T>(L.stats[p].mean);
    const T* invstd = ptr<T>(L.stats[p].invstd);
    for_ranges(int64_t{L.batch} * x.h * x.w, [&](int, int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        T* __restrict v = static_cast<T*>(x.data) + r * x.row;
#pragma omp simd
        for (int64_t c = 0; c < x.c; ++c) v[c] = (v[c] - mean[c]) * invstd[c];
      }
    });
  }
}

// Per term, y = a * src + b per channel: the batch norm and the mixing weight folded together.
template <typename T>
void term_affine(const NodeLaunch& L, std::vector<T>& a, std::vector<T>& b) {
  const bool f64 = std::is_same_v<T, double>;
  const int64_t c = L.node.c;
  a.resize(L.count * c);
  b.resize(L.count * c);
  for (int t = 0; t < L.count; ++t) {
    const Term& term = L.term[t];
    const T w = static_cast<T>(mix_value(term.weight, L.mix, f64));
    for (int64_t ch = 0; ch < c; ++ch) {
      if (term.stats.mean != nullptr) {
        const T inv = ptr<T>(term.stats.invstd)[ch];
        a[t * c + ch] = w * inv;
        b[t * c + ch] = -w * inv * ptr<T>(term.stats.mean)[ch];
      } else {
        a[t * c + ch] = w;
        b[t * c + ch] = T(0);
      }
    }
  }
}

template <typename T>
FUSENAS_CONV_INLINE void node_forward_range(const NodeLaunch& L, const T* a, const T* b,
                                            int64_t begin, int64_t end) {
  const View& out = L.node;
  with_channels(out.c, [&](auto c) FUSENAS_CELL_LAMBDA {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / out.h, oy = item % out.h;
      for (int64_t ox = 0; ox < out.w; ++ox) {
        T* __restrict dst = at<T>(out, n, oy, ox);
        if (!L.accumulate)
          for (int64_t ch = 0; ch < c; ++ch) dst[ch] = T(0);
        for (int t = 0; t < L.count; ++t) {
          const T* __restrict src = at<T>(L.term[t].src, n, oy, ox);
          const T* __restrict ta = a + t * c;
          const T* __restrict tb = b + t * c;
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) dst[ch] += ta[ch] * src[ch] + tb[ch];
        }
      }
    }
  });
}
FUSENAS_CELL_RANGE_ENTRY(node_forward_range)

template <typename T>
void node_forward(const NodeLaunch& L) {
  std::vector<T> a, b;
  term_affine<T>(L, a, b);
  for_ranges(int64_t{L.batch} * L.node.h, [&](int, int64_t begin, int64_t end) {
    node_forward_range_any<T>(L, a.data(), b.data(), begin, end);
  });
}

}  // namespace

void cell_chain_forward(DType dtype, const kernels::cell::ChainForwardLaunch& launch) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { chain_forward<T>(launch); });
}

void cell_running_stats(DType dtype, const kernels::cell::RunningStatsLaunch& launch) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { running_stats<T>(launch); });
}

void cell_normalize(DType dtype, const kernels::cell::NormalizeLaunch& launch) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { normalize<T>(launch); });
}

void cell_node_forward(DType dtype, const kernels::cell::NodeLaunch& launch) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { node_forward<T>(launch); });
}

}  // namespace fusenas::cpu
