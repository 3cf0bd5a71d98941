// Pooling and batch norm against PyTorch 1.13 (CPU) at DARTS-like NHWC shapes, forward and
// backward, including batch norm's running-stat updates.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::ParityBatch;
using testing::ParityOptions;
using testing::random_float;

TEST(PoolParity, MaxAvgAndGlobal) {
  ParityBatch batch;
  struct Case {
    Shape shape;
    int64_t kernel, stride, padding;
  };
  const std::vector<Case> cases = {{{4, 8, 8, 16}, 3, 1, 1},   {{8, 16, 16, 8}, 3, 2, 1},
                                   {{6, 15, 15, 32}, 3, 2, 1}, {{5, 9, 11, 24}, 3, 1, 1},
                                   {{8, 8, 8, 16}, 5, 3, 0},   {{4, 14, 14, 12}, 5, 3, 0},
                                   {{4, 10, 10, 20}, 2, 2, 0}};
  uint64_t seed = 1;
  for (const auto& c : cases) {
    const std::string tag =
        fmt::format("{} k{} s{} p{}", shape_str(c.shape), c.kernel, c.stride, c.padding);
    const nlohmann::json params = {
        {"kernel", c.kernel}, {"stride", c.stride}, {"padding", c.padding}};
    batch.add("max_pool2d " + tag, "max_pool2d", params, {random_float(c.shape, seed++)},
              [=](const auto& x) { return max_pool2d(x[0], c.kernel, c.stride, c.padding); });
    for (bool include_pad : {false, true}) {
      nlohmann::json p = params;
      p["count_include_pad"] = include_pad;
      batch.add(fmt::format("avg_pool2d {} include_pad={}", tag, include_pad), "avg_pool2d", p,
                {random_float(c.shape, seed++)}, [=](const auto& x) {
                  return avg_pool2d(x[0], c.kernel, c.stride, c.padding, include_pad);
                });
    }
  }
  for (const Shape& s : {Shape{8, 8, 8, 32}, Shape{4, 16, 16, 16}, Shape{6, 7, 9, 10}}) {
    batch.add("global_avg_pool " + shape_str(s), "global_avg_pool", {}, {random_float(s, seed++)},
              [](const auto& x) { return global_avg_pool(x[0]); });
  }
  batch.check();
}

// Inputs x, weight, bias, running_mean, running_var (any but x may be undefined). Our op updates
// the running stats in place, so it works on clones: torch must see the originals.
std::vector<Tensor> bn_inputs(const Shape& shape, bool affine, bool stats, uint64_t seed) {
  const int64_t c = shape.back();
  std::vector<Tensor> in{random_float(shape, seed, -2, 3), Tensor(), Tensor(), Tensor(), Tensor()};
  if (affine) {
    in[1] = random_float({c}, seed + 1, 0.5, 1.5);
    in[2] = random_float({c}, seed + 2, -0.5, 0.5);
  }
  if (stats) {
    in[3] = random_float({c}, seed + 3, -0.5, 0.5);
    in[4] = random_float({c}, seed + 4, 0.5, 1.5);
  }
  return in;
}

void add_bn(ParityBatch& batch, const Shape& shape, bool affine, bool stats, bool training,
            uint64_t seed) {
  const double momentum = 0.1, eps = 1e-5;
  const std::string label = fmt::format("batch_norm {} affine={} stats={} training={}",
                                        shape_str(shape), affine, stats, training);
  ParityOptions options;
  options.grad_inputs = {true, true, true, false, false};
  batch.add(label, "batch_norm", {{"training", training}, {"momentum", momentum}, {"eps", eps}},
            bn_inputs(shape, affine, stats, seed),
            testing::MultiFn([=](const std::vector<Tensor>& x) {
              if (!stats)
                return std::vector{batch_norm(x[0], x[1], x[2], {}, {}, training, momentum, eps)};
              Tensor rm = x[3].clone(), rv = x[4].clone();
              Tensor y = batch_norm(x[0], x[1], x[2], rm, rv, training, momentum, eps);
              return std::vector{y, rm, rv};
            }),
            options);
}

TEST(BatchNormParity, Training) {
  ParityBatch batch;
  add_bn(batch, {8, 16, 16, 16}, true, true, true, 1);
  add_bn(batch, {4, 8, 8, 32}, true, true, true, 10);
  add_bn(batch, {6, 12, 12, 8}, false, true, true, 20);
  add_bn(batch, {5, 9, 9, 24}, true, false, true, 30);
  add_bn(batch, {4, 8, 8, 12}, false, false, true, 40);
  add_bn(batch, {64, 32}, true, true, true, 50);
  add_bn(batch, {33, 10}, false, true, true, 60);
  batch.check();
}

TEST(BatchNormParity, Eval) {
  ParityBatch batch;
  add_bn(batch, {8, 16, 16, 16}, true, true, false, 100);
  add_bn(batch, {4, 9, 9, 24}, false, true, false, 110);
  add_bn(batch, {48, 20}, true, true, false, 120);
  batch.check();
}

}  // namespace
}  // namespace fusenas
