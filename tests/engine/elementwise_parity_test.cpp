// Elementwise ops, reductions, matmul and linear against PyTorch 1.13 (CPU), forward and backward.
#include <gtest/gtest.h>

#include "fusenas/engine/ops.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::ParityBatch;
using testing::random_float;

TEST(ElementwiseParity, BinaryOps) {
  ParityBatch batch;
  const std::vector<std::pair<Shape, Shape>> shapes = {{{4, 5, 6, 8}, {4, 5, 6, 8}},
                                                       {{4, 5, 6, 8}, {}},
                                                       {{4, 5, 6, 8}, {8}},
                                                       {{4, 1, 6, 1}, {5, 1, 8}}};
  uint64_t seed = 1;
  for (const auto& [sa, sb] : shapes) {
    const auto inputs = [&] {
      return std::vector{random_float(sa, seed, -2, 2), random_float(sb, seed + 1, 0.5, 2)};
    };
    const std::string tag = shape_str(sa) + shape_str(sb);
    batch.add("add" + tag, "add", {}, inputs(), [](const auto& x) { return add(x[0], x[1]); });
    batch.add("sub" + tag, "sub", {}, inputs(), [](const auto& x) { return sub(x[0], x[1]); });
    batch.add("mul" + tag, "mul", {}, inputs(), [](const auto& x) { return mul(x[0], x[1]); });
    batch.add("div" + tag, "div", {}, inputs(), [](const auto& x) { return div(x[0], x[1]); });
    seed += 2;
  }
  batch.check();
}

TEST(ElementwiseParity, UnaryOps) {
  ParityBatch batch;
  const Shape s{64, 33};
  batch.add("relu", "relu", {}, {random_float(s, 1, -2, 2)},
            [](const auto& x) { return relu(x[0]); });
  batch.add("sigmoid", "sigmoid", {}, {random_float(s, 2, -4, 4)},
            [](const auto& x) { return sigmoid(x[0]); });
  batch.add("tanh", "tanh", {}, {random_float(s, 3, -3, 3)},
            [](const auto& x) { return tanh(x[0]); });
  batch.add("exp", "exp", {}, {random_float(s, 4, -3, 3)}, [](const auto& x) { return exp(x[0]); });
  batch.add("log", "log", {}, {random_float(s, 5, 0.1, 3)},
            [](const auto& x) { return log(x[0]); });
  batch.add("scale", "scale", {{"factor", 0.37}}, {random_float(s, 6)},
            [](const auto& x) { return scale(x[0], 0.37); });
  batch.add("sqrt", "sqrt", {}, {random_float(s, 7, 0.1, 3)},
            [](const auto& x) { return sqrt(x[0]); });
  batch.add("clamp_max", "clamp_max", {{"max", 0.25}}, {random_float(s, 8, -1, 1)},
            [](const auto& x) { return clamp_max(x[0], 0.25); });
  batch.check();
}

TEST(ElementwiseParity, Reductions) {
  ParityBatch batch;
  for (const std::vector<int64_t>& axes :
       std::vector<std::vector<int64_t>>{{0, 1, 2}, {3}, {1, 2}, {0}}) {
    for (bool keep : {false, true}) {
      const std::string tag = shape_str(axes) + (keep ? " keepdim" : "");
      batch.add("sum" + tag, "sum", {{"axes", axes}, {"keepdim", keep}},
                {random_float({16, 9, 9, 12}, 13)},
                [=](const auto& x) { return sum(x[0], axes, keep); });
      batch.add("mean" + tag, "mean", {{"axes", axes}, {"keepdim", keep}},
                {random_float({16, 9, 9, 12}, 14)},
                [=](const auto& x) { return mean(x[0], axes, keep); });
    }
  }
  batch.check();
}

TEST(ElementwiseParity, MatmulAndLinear) {
  ParityBatch batch;
  batch.add("matmul", "matmul", {}, {random_float({37, 50}, 1), random_float({50, 23}, 2)},
            [](const auto& x) { return matmul(x[0], x[1]); });
  batch.add("bmm", "matmul", {}, {random_float({3, 17, 20}, 3), random_float({3, 20, 9}, 4)},
            [](const auto& x) { return matmul(x[0], x[1]); });
  batch.add("linear", "linear", {},
            {random_float({8, 5, 64}, 5), random_float({10, 64}, 6), random_float({10}, 7)},
            [](const auto& x) { return linear(x[0], x[1], x[2]); });
  batch.check();
}

}  // namespace
}  // namespace fusenas
