// CPU kernels for sum reductions (double accumulation) and argmax.
#include "ops/cpu/reduce.h"

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

// out[k] = factor * sum_r x[k * R + r]
template <typename T>
void row_sums(const T* x, int64_t rows, int64_t cols, T* out, double factor) {
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t k = b; k < e; ++k) {
                   const T* row = x + k * cols;
                   double acc = 0;
                   for (int64_t r = 0; r < cols; ++r) acc += row[r];
                   out[k] = static_cast<T>(acc * factor);
                 }
               });
}

// out[k] = factor * sum_r x[r * K + k]
template <typename T>
void column_sums(const T* x, int64_t rows, int64_t cols, T* out, double factor) {
  const int64_t block = 256;
  const int64_t blocks = (cols + block - 1) / block;
  parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    std::vector<double> acc(block);
    for (int64_t blk = b; blk < e; ++blk) {
      const int64_t k0 = blk * block;
      const int64_t kn = std::min(block, cols - k0);
      std::fill(acc.begin(), acc.begin() + kn, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = x + r * cols + k0;
        for (int64_t k = 0; k < kn; ++k) acc[k] += row[k];
      }
      for (int64_t k = 0; k < kn; ++k) out[k0 + k] = static_cast<T>(acc[k] * factor);
    }
  });
}

}  // namespace

void sum_reduce(const Tensor& x, const std::vector<bool>& reduced, const Tensor& out,
                double factor) {
  const int64_t rank = x.dim();
  int64_t kept = 1, summed = 1;
  std::vector<int64_t> order;
  bool leading = true;  // reduced axes form a prefix
  bool seen_kept = false;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) {
      summed *= x.shape()[d];
      if (seen_kept) leading = false;
    } else {
      kept *= x.shape()[d];
      seen_kept = true;
      order.push_back(d);
    }
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) order.push_back(d);
  }
  dispatch_floating(x.dtype(), "sum", [&]<typename T>() {
    T* o = out.data<T>();
    if (leading && x.is_contiguous()) {
      column_sums(x.data<T>(), summed, kept, o, factor);
      return;
    }
    // Kept axes first, reduced axes last, then each output is one contiguous row.
    Tensor moved = x.detach().permute(order).contiguous();
    row_sums(moved.data<T>(), kept, summed, o, factor);
  });
}

void argmax_last(const Tensor& x, const Tensor& out) {
  const int64_t k = x.shape().back();
  const int64_t rows = k == 0 ? 0 : x.numel() / k;
  int64_t* o = out.data<int64_t>();
  dispatch_floating(x.dtype(), "argmax", [&]<typename T>() {
    const T* p = x.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = p + r * k;
      int64_t best = 0;
      for (int64_t i = 1; i < k; ++i) {
        if (row[i] > row[best]) best = i;
      }
      o[r] = best;
    }
  });
}

}  // namespace fusenas::cpu
