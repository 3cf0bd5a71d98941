// CPU kernels for copies, fills and in-place scaled adds over strided tensors.
#include "ops/cpu/copy.h"

#include "core/dispatch.h"
#include "core/strided.h"

namespace fusenas::cpu {

void copy(const Tensor& src, const Tensor& dst) {
  StridedLoop<2> loop(dst.shape(), {dst.strides(), src.strides()});
  dispatch_all(dst.dtype(), "copy", [&]<typename D>() {
    dispatch_all(src.dtype(), "copy", [&]<typename S>() {
      D* d = dst.data<D>();
      const S* s = src.data<S>();
      loop.run([&](const auto& off, int64_t n, const auto& st) {
        D* dp = d + off[0];
        const S* sp = s + off[1];
        if (st[0] == 1 && st[1] == 1) {
          for (int64_t i = 0; i < n; ++i) dp[i] = static_cast<D>(sp[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = static_cast<D>(sp[i * st[1]]);
        }
      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  StridedLoop<1> loop(dst.shape(), {dst.strides()});
  dispatch_all(dst.dtype(), "fill_", [&]<typename T>() {
    T* d = dst.data<T>();
    const T v = static_cast<T>(value);
    loop.run([&](const auto& off, int64_t n, const auto& st) {
      T* dp = d + off[0];
      for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = v;
    });
  });
}

void axpy(const Tensor& dst, const Tensor& src, double alpha) {
  const Shape src_strides = broadcast_strides(src.shape(), src.strides(), dst.shape());
  StridedLoop<2> loop(dst.shape(), {dst.strides(), src_strides});
  dispatch_floating(dst.dtype(), "add_", [&]<typename T>() {
    T* d = dst.data<T>();
    const T* s = src.data<T>();
    const T a = static_cast<T>(alpha);
    loop.run([&](const auto& off, int64_t n, const auto& st) {
      T* dp = d + off[0];
      const T* sp = s + off[1];
      if (st[0] == 1 && st[1] == 1) {
        for (int64_t i = 0; i < n; ++i) dp[i] += a * sp[i];
      } else {
        for (int64_t i = 0; i < n; ++i) dp[i * st[0]] += a * sp[i * st[1]];
      }
    });
  });
}

void scale_inplace(const Tensor& dst, double factor) {
  StridedLoop<1> loop(dst.shape(), {dst.strides()});
  dispatch_floating(dst.dtype(), "mul_", [&]<typename T>() {
    T* d = dst.data<T>();
    const T f = static_cast<T>(factor);
    loop.run([&](const auto& off, int64_t n, const auto& st) {
      T* dp = d + off[0];
      for (int64_t i = 0; i < n; ++i) dp[i * st[0]] *= f;
    });
  });
}

}  // namespace fusenas::cpu
