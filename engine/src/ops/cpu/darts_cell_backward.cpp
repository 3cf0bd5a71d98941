// CPU per-node gradient sums of the fused DARTS cell: the batch-norm backward terms of every
// node term and the mixing weights' gradient.
#include "core/dispatch.h"
#include "ops/cpu/darts_cell.h"
#include "ops/cpu/darts_cell_common.h"

namespace fusenas::cpu {
namespace {

using namespace cell;

// Sums of g and of g * src per channel (in double); the batch norm is applied at the end:
// sum g * xhat = invstd * (sum g * src - mean * sum g).
template <typename T>
FUSENAS_CONV_INLINE void node_sums_range(const NodeLaunch& L, double* acc, std::vector<T>& row,
                                         int64_t begin, int64_t end) {
  const View& g = L.node;
  // Each image row is summed in T (a few dozen terms), then added to the double sums.
  with_channels(g.c, [&](auto cc) FUSENAS_CELL_LAMBDA {
    row.resize((L.count + 1) * cc);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / g.h, oy = item % g.h;
      std::fill(row.begin(), row.end(), T(0));
      for (int64_t ox = 0; ox < g.w; ++ox) {
        const T* __restrict gv = at<T>(g, n, oy, ox);
        T* __restrict r0 = row.data();
#pragma omp simd
        for (int64_t ch = 0; ch < cc; ++ch) r0[ch] += gv[ch];
        for (int t = 0; t < L.count; ++t) {
          const T* __restrict src = at<T>(L.term[t].src, n, oy, ox);
          T* __restrict a = row.data() + (t + 1) * cc;
#pragma omp simd
          for (int64_t ch = 0; ch < cc; ++ch) a[ch] += gv[ch] * src[ch];
        }
      }
      for (int64_t i = 0; i < (L.count + 1) * cc; ++i) acc[i] += row[i];
    }
  });
}
FUSENAS_CELL_RANGE_ENTRY(node_sums_range)

// Sums of g and of g * src per channel (in double); the batch norm is applied at the end:
// sum g * xhat = invstd * (sum g * src - mean * sum g).
template <typename T>
void node_sums(const NodeLaunch& L) {
  const View& g = L.node;
  const int64_t c = g.c, width = (L.count + 1) * c;
  const int64_t rows = int64_t{L.batch} * g.h;
  RangeSums sums(range_count(rows), width);
  for_ranges(rows, [&](int r, int64_t begin, int64_t end) {
    std::vector<T> row;
    node_sums_range_any<T>(L, sums.range(r), row, begin, end);
  });
  std::vector<double> total = sums.total();
  if (L.g_sum != nullptr) {
    T* gs = static_cast<T*>(L.g_sum);
    for (int64_t ch = 0; ch < c; ++ch) gs[ch] = static_cast<T>(total[ch]);
  }
  for (int t = 0; t < L.count; ++t) {
    const Term& term = L.term[t];
    double* a = total.data() + (t + 1) * c;
    if (term.stats.mean != nullptr) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const double mean = ptr<T>(term.stats.mean)[ch], inv = ptr<T>(term.stats.invstd)[ch];
        a[ch] = inv * (a[ch] - mean * total[ch]);
      }
    }
    if (term.gx_sum != nullptr) {
      T* dst = static_cast<T*>(term.gx_sum);
      for (int64_t ch = 0; ch < c; ++ch) dst[ch] = static_cast<T>(a[ch]);
    }
    if (term.alpha_index >= 0 && L.alpha_grad != nullptr) {
      double s = 0;
      for (int64_t ch = 0; ch < c; ++ch) s += a[ch];
      static_cast<T*>(L.alpha_grad)[term.alpha_index] = static_cast<T>(s);
    }
  }
}

}  // namespace

void cell_node_sums(DType dtype, const kernels::cell::NodeLaunch& launch) {
  dispatch_floating(dtype, "darts_cell", [&]<typename T>() { node_sums<T>(launch); });
}

}  // namespace fusenas::cpu
