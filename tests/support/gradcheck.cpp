// Central finite-difference gradient checks in double precision.
#include "support/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas::testing {

Tensor random_double(const Shape& shape, uint64_t seed, double low, double high,
                     bool requires_grad) {
  Generator gen(seed);
  Tensor t = uniform(shape, low, high, gen, TensorOptions{}.with_dtype(DType::Float64));
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

void expect_gradients_match(const TensorFn& f, const std::vector<Tensor>& inputs, double eps,
                            double tolerance) {
  for (const auto& t : inputs) {
    if (t.defined() && t.requires_grad()) {
      ASSERT_EQ(t.dtype(), DType::Float64) << "gradcheck inputs must be float64";
    }
  }
  Tensor probe = f(inputs);
  Generator gen(1234);
  const Tensor weights =
      uniform(probe.shape(), -1.0, 1.0, gen, TensorOptions{}.with_dtype(DType::Float64));
  auto objective = [&](const std::vector<Tensor>& xs) { return sum(mul(f(xs), weights)); };

  for (const auto& t : inputs) {
    if (t.defined() && t.requires_grad()) t.set_grad(Tensor());
  }
  objective(inputs).backward();

  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    ASSERT_TRUE(x.grad().defined()) << "input " << i << " received no gradient";
    const std::vector<double> analytic = x.grad().to_vector<double>();
    ASSERT_TRUE(x.is_contiguous());
    double* p = x.data<double>();
    double worst = 0;
    int64_t worst_at = -1;
    double worst_num = 0, worst_ana = 0;
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double saved = p[j];
      p[j] = saved + eps;
      const double plus = objective(inputs).item();
      p[j] = saved - eps;
      const double minus = objective(inputs).item();
      p[j] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double err = std::abs(numeric - analytic[j]) / std::max(1.0, std::abs(numeric));
      if (err > worst) {
        worst = err;
        worst_at = j;
        worst_num = numeric;
        worst_ana = analytic[j];
      }
    }
    EXPECT_LE(worst, tolerance) << "input " << i << " " << shape_str(x.shape()) << " element "
                                << worst_at << ": numeric " << worst_num << " analytic "
                                << worst_ana;
  }
}

}  // namespace fusenas::testing
