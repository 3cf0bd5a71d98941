// CPU kernels for concat. The output is viewed as [outer, sum_i cols_i] with input i owning a
// band of cols_i columns; threads split the flat output range (not the rows), so concatenating
// along axis 0, where there is a single row, is still parallel.
#include "ops/cpu/concat.h"

#include <cstring>

#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

// Calls copy(i, in_offset, out_offset, n) for every run of n elements of [begin, end) of the
// flat output that belongs to input i. Offsets are in elements.
template <typename F>
void for_each_run(int64_t begin, int64_t end, const std::vector<int64_t>& cols, int64_t row_len,
                  F&& copy) {
  int64_t row = begin / row_len;
  int64_t col = begin % row_len;
  size_t i = 0;
  int64_t band = 0;  // first column of input i
  while (band + cols[i] <= col) band += cols[i++];
  for (int64_t pos = begin; pos < end;) {
    const int64_t within = col - band;
    const int64_t n = std::min(cols[i] - within, end - pos);
    if (n > 0) copy(i, row * cols[i] + within, pos, n);
    pos += n;
    col += n;
    if (col - band == cols[i]) {
      band += cols[i++];
      if (i == cols.size()) {
        i = 0;
        band = 0;
        col = 0;
        ++row;
      }
    }
  }
}

struct Layout {
  std::vector<int64_t> cols;  // elements per row of each input
  int64_t row_len = 0;        // elements per output row
  int64_t total = 0;          // output elements
};

Layout layout_of(const Shape& out_shape, int64_t axis, const std::vector<int64_t>& sizes) {
  int64_t inner = 1;
  for (size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
  Layout l;
  for (int64_t s : sizes) {
    l.cols.push_back(s * inner);
    l.row_len += s * inner;
  }
  l.total = numel_of(out_shape);
  return l;
}

}  // namespace

void concat_forward(const std::vector<Tensor>& xs, int64_t axis, const Tensor& out) {
  std::vector<int64_t> sizes;
  for (const auto& x : xs) sizes.push_back(x.shape()[axis]);
  const Layout l = layout_of(out.shape(), axis, sizes);
  if (l.row_len == 0) return;
  const size_t es = dtype_size(out.dtype());
  std::vector<const char*> src;
  for (const auto& x : xs) src.push_back(static_cast<const char*>(x.raw_data()));
  char* dst = static_cast<char*>(out.raw_data());
  parallel_for(l.total, 65536, [&](int64_t b, int64_t e) {
    for_each_run(b, e, l.cols, l.row_len,
                 [&](size_t i, int64_t in_off, int64_t out_off, int64_t n) {
                   std::memcpy(dst + out_off * es, src[i] + in_off * es, n * es);
                 });
  });
}

void concat_backward(const Tensor& gy, int64_t axis, const std::vector<int64_t>& sizes,
                     const std::vector<Tensor>& gxs) {
  const Layout l = layout_of(gy.shape(), axis, sizes);
  if (l.row_len == 0) return;
  const size_t es = dtype_size(gy.dtype());
  std::vector<char*> dst;
  for (const auto& g : gxs) dst.push_back(g.defined() ? static_cast<char*>(g.raw_data()) : nullptr);
  const char* src = static_cast<const char*>(gy.raw_data());
  parallel_for(l.total, 65536, [&](int64_t b, int64_t e) {
    for_each_run(b, e, l.cols, l.row_len,
                 [&](size_t i, int64_t in_off, int64_t out_off, int64_t n) {
                   if (dst[i]) std::memcpy(dst[i] + in_off * es, src + out_off * es, n * es);
                 });
  });
}

}  // namespace fusenas::cpu
