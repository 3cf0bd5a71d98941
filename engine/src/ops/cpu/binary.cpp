// CPU kernel for broadcasting binary arithmetic, with a contiguous fast path.
#include "ops/cpu/binary.h"

#include "core/dispatch.h"
#include "core/strided.h"

namespace fusenas::cpu {
namespace {

template <typename T, typename F>
void run(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  StridedLoop<3> loop(out.shape(), {out.strides(), sa, sb});
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  loop.run([&](const auto& off, int64_t n, const auto& st) {
    T* o = po + off[0];
    const T* x = pa + off[1];
    const T* y = pb + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const T xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
    }
  });
}

}  // namespace

void binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(out.dtype(), "binary", [&]<typename T>() {
    switch (kind) {
      case BinaryKind::Add:
        return run<T>(a, b, out, [](T x, T y) { return x + y; });
      case BinaryKind::Sub:
        return run<T>(a, b, out, [](T x, T y) { return x - y; });
      case BinaryKind::Mul:
        return run<T>(a, b, out, [](T x, T y) { return x * y; });
      case BinaryKind::Div:
        return run<T>(a, b, out, [](T x, T y) { return x / y; });
    }
  });
}

}  // namespace fusenas::cpu
