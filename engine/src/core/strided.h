// StridedLoop: walks K same-shaped strided operands row by row, merging dims that are contiguous
// for every operand, in parallel over rows.
#pragma once

#include <array>
#include <cstdint>

#include "core/parallel.h"
#include "fusenas/engine/shape.h"

namespace fusenas {

template <int K>
class StridedLoop {
 public:
  using Offsets = std::array<int64_t, K>;

  StridedLoop(const Shape& shape, const std::array<Shape, K>& strides) {
    // Drop size-1 dims, then merge neighbours whose strides chain for every operand.
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool merge = !shape_.empty();
      for (int k = 0; k < K && merge; ++k) {
        merge = strides_[k].back() == strides[k][d] * shape[d];
      }
      if (merge) {
        shape_.back() *= shape[d];
        for (int k = 0; k < K; ++k) strides_[k].back() = strides[k][d];
      } else {
        shape_.push_back(shape[d]);
        for (int k = 0; k < K; ++k) strides_[k].push_back(strides[k][d]);
      }
    }
    if (shape_.empty()) {
      shape_.push_back(numel_of(shape) == 0 ? 0 : 1);
      for (int k = 0; k < K; ++k) strides_[k].push_back(1);
    }
  }

  int64_t inner() const { return shape_.back(); }
  Offsets inner_strides() const {
    Offsets s;
    for (int k = 0; k < K; ++k) s[k] = strides_[k].back();
    return s;
  }

  // fn(offsets, n, inner_strides) for every row of the innermost dim.
  template <typename F>
  void run(F&& fn, int64_t grain_elems = 32768) const {
    const int64_t n = inner();
    if (n == 0) return;
    const int64_t rows = numel_of(shape_) / n;
    const Offsets inner_s = inner_strides();
    const int64_t outer_rank = static_cast<int64_t>(shape_.size()) - 1;
    const int64_t grain_rows = std::max<int64_t>(1, grain_elems / n);
    parallel_for(rows, grain_rows, [&](int64_t begin, int64_t end) {
      std::array<int64_t, 16> index{};
      Offsets off{};
      int64_t r = begin;
      for (int64_t d = outer_rank - 1; d >= 0; --d) {
        index[d] = r % shape_[d];
        r /= shape_[d];
        for (int k = 0; k < K; ++k) off[k] += index[d] * strides_[k][d];
      }
      for (int64_t row = begin; row < end; ++row) {
        fn(off, n, inner_s);
        for (int64_t d = outer_rank - 1; d >= 0; --d) {
          for (int k = 0; k < K; ++k) off[k] += strides_[k][d];
          if (++index[d] < shape_[d]) break;
          for (int k = 0; k < K; ++k) off[k] -= shape_[d] * strides_[k][d];
          index[d] = 0;
        }
      }
    });
  }

 private:
  Shape shape_;
  std::array<Shape, K> strides_;
};

// Strides of `t_shape`/`t_strides` broadcast against `out_shape` (stride 0 on broadcast dims).
inline Shape broadcast_strides(const Shape& t_shape, const Shape& t_strides,
                               const Shape& out_shape) {
  Shape s(out_shape.size(), 0);
  const size_t lead = out_shape.size() - t_shape.size();
  for (size_t i = 0; i < t_shape.size(); ++i) {
    s[lead + i] = t_shape[i] == 1 ? 0 : t_strides[i];
  }
  return s;
}

}  // namespace fusenas
