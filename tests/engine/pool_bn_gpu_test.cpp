// CUDA backend of max/avg/global pooling and batch norm against the CPU, forward and backward,
// including first-maximum routing of ties and NaNs, and the running statistics batch norm updates.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

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

TEST(PoolGpu, MaxPool) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& c : kPoolCases) {
      const auto in = std::vector{random_float({3, 11, 12, 20}, 1).to(dtype)};
      expect_cuda_matches_cpu(fmt::format("max_pool2d k{} s{} p{} {}", c.kernel, c.stride,
                                          c.padding, dtype_name(dtype)),
                              in, [c](const auto& v) {
                                return std::vector{max_pool2d(v[0], c.kernel, c.stride, c.padding)};
                              });
    }
  }
}

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

TEST(PoolGpu, AvgPoolBothCountingModes) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const bool include_pad : {false, true}) {
      for (const auto& c : kPoolCases) {
        const auto in = std::vector{random_float({3, 11, 12, 20}, 3).to(dtype)};
        expect_cuda_matches_cpu(
            fmt::format("avg_pool2d k{} s{} p{} include_pad={} {}", c.kernel, c.stride, c.padding,
                        include_pad, dtype_name(dtype)),
            in, [c, include_pad](const auto& v) {
              return std::vector{avg_pool2d(v[0], c.kernel, c.stride, c.padding, include_pad)};
            });
      }
    }
  }
}

TEST(PoolGpu, GlobalAvgPool) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& s : std::vector<Shape>{{2, 7, 7, 40}, {16, 1, 1, 3}, {3, 32, 32, 70}}) {
      expect_cuda_matches_cpu(fmt::format("global_avg_pool {} {}", shape_str(s), dtype_name(dtype)),
                              {random_float(s, 4).to(dtype)},
                              [](const auto& v) { return std::vector{global_avg_pool(v[0])}; });
    }
  }
}

TEST(PoolGpu, StridedInput) {
  FUSENAS_REQUIRE_GPU();
  expect_cuda_matches_cpu("max_pool2d of a permuted input", {random_float({2, 8, 7, 6}, 5)},
                          [](const auto& v) {
                            return std::vector{max_pool2d(v[0].permute({0, 2, 1, 3}), 3, 2, 1)};
                          });
}

// Batch-norm inputs: x, weight, bias, running_mean, running_var (the stats are not
// differentiated, and are compared after the update as extra outputs).
std::vector<Tensor> bn_inputs(const Shape& x_shape, bool affine, DType dtype, uint64_t seed,
                              double mean_offset = 0) {
  const int64_t c = x_shape.back();
  Tensor x = random_float(x_shape, seed, -2, 2).to(dtype);
  if (mean_offset != 0) x = add_scalar(x, mean_offset);
  return {x, affine ? random_float({c}, seed + 1, 0.5, 1.5).to(dtype) : Tensor(),
          affine ? random_float({c}, seed + 2).to(dtype) : Tensor(),
          random_float({c}, seed + 3).to(dtype), random_float({c}, seed + 4, 0.5, 2).to(dtype)};
}

std::vector<bool> bn_grads(bool affine) {
  return {true, affine, affine, false, false};
}

TEST(BatchNormGpu, Training) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const bool affine : {true, false}) {
      for (const Shape& s :
           std::vector<Shape>{{4, 9, 9, 24}, {32, 10}, {16, 16, 16, 40}, {2, 3, 3, 1}}) {
        expect_cuda_matches_cpu(
            fmt::format("batch_norm train {} affine={} {}", shape_str(s), affine,
                        dtype_name(dtype)),
            bn_inputs(s, affine, dtype, 10),
            [](const auto& v) {
              return std::vector{batch_norm(v[0], v[1], v[2], v[3], v[4], true, 0.1, 1e-5), v[3],
                                 v[4]};
            },
            1e-5, bn_grads(affine));
      }
    }
  }
}

TEST(BatchNormGpu, TrainingWithoutRunningStatsAndLargeMean) {
  FUSENAS_REQUIRE_GPU();
  expect_cuda_matches_cpu(
      "batch_norm train no running stats", bn_inputs({4, 6, 6, 12}, true, DType::Float32, 20),
      [](const auto& v) {
        return std::vector{batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), true, 0.1, 1e-5)};
      },
      1e-5, bn_grads(true));
  // |mean| >> std: the shifted one-pass variance must stay accurate.
  expect_cuda_matches_cpu(
      "batch_norm train large mean", bn_inputs({8, 8, 8, 16}, true, DType::Float32, 30, 1000.0),
      [](const auto& v) {
        return std::vector{batch_norm(v[0], v[1], v[2], v[3], v[4], true, 0.3, 1e-3), v[3], v[4]};
      },
      1e-5, bn_grads(true));
}

TEST(BatchNormGpu, Eval) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const bool affine : {true, false}) {
      for (const Shape& s : std::vector<Shape>{{4, 9, 9, 24}, {32, 10}}) {
        expect_cuda_matches_cpu(
            fmt::format("batch_norm eval {} affine={} {}", shape_str(s), affine, dtype_name(dtype)),
            bn_inputs(s, affine, dtype, 40),
            [](const auto& v) {
              return std::vector{batch_norm(v[0], v[1], v[2], v[3], v[4], false, 0.1, 1e-5), v[3],
                                 v[4]};
            },
            1e-5, bn_grads(affine));
      }
    }
  }
  // Eval with only the weight needing a gradient (the input constant).
  expect_cuda_matches_cpu(
      "batch_norm eval weight only", bn_inputs({4, 5, 5, 8}, true, DType::Float32, 50),
      [](const auto& v) {
        return std::vector{batch_norm(v[0], v[1], v[2], v[3], v[4], false, 0.1, 1e-5)};
      },
      1e-5, {false, true, false, false, false});
}

}  // namespace
}  // namespace fusenas
