// CUDA max_pool2d beyond its case table (tests/cases/pool2d.cpp, checked against the CPU by
// op_cases_gpu_test): tied maxima go to the first tap, and a NaN wins and takes the gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::random_float;

struct PoolCase {
  int64_t kernel, stride, padding;
};

const std::vector<PoolCase> kPoolCases = {{3, 1, 1}, {3, 2, 1}, {5, 3, 0}, {2, 2, 0}};

TEST(PoolGpu, MaxPoolTiesGoToTheFirstMaximum) {
  FUSENAS_REQUIRE_GPU();
  // Values from a handful of levels: most windows hold tied maxima.
  Generator gen(2);
  std::vector<float> v(2 * 9 * 9 * 4);
  for (auto& e : v) e = static_cast<float>(gen.next_int(0, 3));
  const Tensor x = from_vector(v, {2, 9, 9, 4});
  for (const auto& c : kPoolCases) {
    expect_cuda_matches_cpu(
        fmt::format("max_pool2d ties k{} s{} p{}", c.kernel, c.stride, c.padding), {x},
        [c](const auto& in) {
          return std::vector{max_pool2d(in[0], c.kernel, c.stride, c.padding)};
        });
  }
}

TEST(PoolGpu, MaxPoolNanWinsAndTakesTheGradient) {
  FUSENAS_REQUIRE_GPU();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const TensorOptions f64 = TensorOptions{}.with_dtype(DType::Float64);
  Tensor x = from_vector(std::vector<double>{1, nan, 3, 2, 0, 5}, {1, 2, 3, 1}, f64)
                 .to(Device::cuda())
                 .set_requires_grad();
  Tensor y = max_pool2d(x, 2, 1, 0);
  const auto v = y.to_vector<double>();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]));
  y.backward(from_vector(std::vector<double>{1, 10}, {1, 1, 2, 1}, f64).to(Device::cuda()));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 11, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace fusenas
