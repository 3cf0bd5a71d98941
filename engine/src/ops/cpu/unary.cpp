// CPU kernels for pointwise unary ops and their backward passes.
#include "ops/cpu/unary.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/parallel.h"

namespace fusenas::cpu {
namespace {

template <typename T, typename F>
void map1(const Tensor& in, const Tensor& out, F f) {
  const T* x = in.data<T>();
  T* y = out.data<T>();
  parallel_for(out.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

template <typename T, typename F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* x = a.data<T>();
  const T* z = b.data<T>();
  T* y = out.data<T>();
  parallel_for(out.numel(), 16384, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i], z[i]);
  });
}

}  // namespace

void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param) {
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    const T p = static_cast<T>(param);
    switch (kind) {
      case UnaryKind::Relu:
        return map1<T>(x, y, [](T v) { return v > T(0) ? v : T(0); });
      case UnaryKind::Sigmoid:
        return map1<T>(x, y, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
      case UnaryKind::Tanh:
        return map1<T>(x, y, [](T v) { return std::tanh(v); });
      case UnaryKind::Exp:
        return map1<T>(x, y, [](T v) { return std::exp(v); });
      case UnaryKind::Log:
        return map1<T>(x, y, [](T v) { return std::log(v); });
      case UnaryKind::Neg:
        return map1<T>(x, y, [](T v) { return -v; });
      case UnaryKind::Square:
        return map1<T>(x, y, [](T v) { return v * v; });
      case UnaryKind::Scale:
        return map1<T>(x, y, [p](T v) { return v * p; });
      case UnaryKind::AddScalar:
        return map1<T>(x, y, [p](T v) { return v + p; });
      case UnaryKind::Sqrt:
        return map1<T>(x, y, [](T v) { return std::sqrt(v); });
      case UnaryKind::ClampMax:
        // NaN stays NaN (a comparison with NaN is false), as in PyTorch.
        return map1<T>(x, y, [p](T v) { return v > p ? p : v; });
    }
  });
}

void unary_backward(UnaryKind kind, const Tensor& gy, const Tensor& saved, const Tensor& gx,
                    double param) {
  dispatch_floating(gy.dtype(), "unary backward", [&]<typename T>() {
    const T p = static_cast<T>(param);
    switch (kind) {
      case UnaryKind::Relu:
        return map2<T>(gy, saved, gx, [](T g, T y) { return y > T(0) ? g : T(0); });
      case UnaryKind::Sigmoid:
        return map2<T>(gy, saved, gx, [](T g, T y) { return g * y * (T(1) - y); });
      case UnaryKind::Tanh:
        return map2<T>(gy, saved, gx, [](T g, T y) { return g * (T(1) - y * y); });
      case UnaryKind::Exp:
        return map2<T>(gy, saved, gx, [](T g, T y) { return g * y; });
      case UnaryKind::Log:
        return map2<T>(gy, saved, gx, [](T g, T x) { return g / x; });
      case UnaryKind::Square:
        return map2<T>(gy, saved, gx, [](T g, T x) { return T(2) * g * x; });
      case UnaryKind::Neg:
        return map1<T>(gy, gx, [](T g) { return -g; });
      case UnaryKind::Scale:
        return map1<T>(gy, gx, [p](T g) { return g * p; });
      case UnaryKind::AddScalar:
        return map1<T>(gy, gx, [](T g) { return g; });
      case UnaryKind::Sqrt:
        return map2<T>(gy, saved, gx, [](T g, T y) { return g / (T(2) * y); });
      case UnaryKind::ClampMax:
        return map2<T>(gy, saved, gx, [p](T g, T x) { return x > p ? T(0) : g; });
    }
  });
}

}  // namespace fusenas::cpu
