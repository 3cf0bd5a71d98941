// softmax, log_softmax, cross_entropy, embedding, weighted_sum, concat, zero_op, dropout and
// drop_path against PyTorch 1.13 (CPU), forward and backward. Random ops get the mask we drew as
// an extra input, so torch computes x * mask / (1 - p) with the same mask.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::ParityBatch;
using testing::ParityOptions;
using testing::random_float;

Tensor random_labels(const Shape& shape, int64_t high, uint64_t seed) {
  Generator gen(seed);
  return randint(shape, 0, high, gen);
}

// The 0/1 mask a fresh Generator(seed) draws: where `op` keeps ones.
template <typename Op>
Tensor drawn_mask(Op op, const Shape& shape, double p, uint64_t seed) {
  Generator gen(seed);
  const Tensor kept = op(ones(shape), p, true, gen);
  std::vector<float> m = kept.to_vector<float>();
  for (float& v : m) v = v != 0.0f ? 1.0f : 0.0f;
  return from_vector(m, shape);
}

TEST(MiscOpsParity, Softmax) {
  ParityBatch batch;
  for (const Shape& s : std::vector<Shape>{{16, 10}, {4, 5, 6, 7}, {3, 1000}}) {
    batch.add("softmax" + shape_str(s), "softmax", {}, {random_float(s, 1, -4, 4)},
              [](const auto& x) { return softmax(x[0]); });
    batch.add("log_softmax" + shape_str(s), "log_softmax", {}, {random_float(s, 2, -4, 4)},
              [](const auto& x) { return log_softmax(x[0]); });
  }
  // Large logits: only a max-subtracted implementation stays finite.
  batch.add("softmax large", "softmax", {}, {random_float({8, 12}, 3, 80, 120)},
            [](const auto& x) { return softmax(x[0]); });
  batch.add("log_softmax large", "log_softmax", {}, {random_float({8, 12}, 4, 80, 120)},
            [](const auto& x) { return log_softmax(x[0]); });
  batch.check();
}

TEST(MiscOpsParity, CrossEntropy) {
  ParityBatch batch;
  const ParityOptions only_logits{1e-5, {true, false}};
  batch.add(
      "cross_entropy [32, 10]", "cross_entropy", {},
      {random_float({32, 10}, 5, -3, 3), random_labels({32}, 10, 6)},
      [](const auto& x) { return cross_entropy(x[0], x[1]); }, only_logits);
  batch.add(
      "cross_entropy [7, 1000]", "cross_entropy", {},
      {random_float({7, 1000}, 7, -5, 5), random_labels({7}, 1000, 8)},
      [](const auto& x) { return cross_entropy(x[0], x[1]); }, only_logits);
  batch.add(
      "cross_entropy [1, 2]", "cross_entropy", {},
      {random_float({1, 2}, 9), random_labels({1}, 2, 10)},
      [](const auto& x) { return cross_entropy(x[0], x[1]); }, only_logits);
  batch.check();
}

TEST(MiscOpsParity, Embedding) {
  ParityBatch batch;
  const ParityOptions only_weight{1e-5, {true, false}};
  // 24 lookups into 6 rows: plenty of repeats for the scatter-add.
  batch.add(
      "embedding [6, 8] x [4, 6]", "embedding", {},
      {random_float({6, 8}, 11), random_labels({4, 6}, 6, 12)},
      [](const auto& x) { return embedding(x[0], x[1]); }, only_weight);
  batch.add(
      "embedding [500, 64] x [300]", "embedding", {},
      {random_float({500, 64}, 13), random_labels({300}, 500, 14)},
      [](const auto& x) { return embedding(x[0], x[1]); }, only_weight);
  batch.check();
}

TEST(MiscOpsParity, WeightedSum) {
  ParityBatch batch;
  for (const Shape& s : std::vector<Shape>{{2, 3}, {8, 16, 16, 12}, {40000}}) {
    for (int n : {1, 3, 8}) {
      std::vector<Tensor> inputs;
      for (int i = 0; i < n; ++i) inputs.push_back(random_float(s, 20 + i));
      inputs.push_back(random_float({n}, 40 + n));
      batch.add(fmt::format("weighted_sum {} x {}", n, shape_str(s)), "weighted_sum", {}, inputs,
                [n](const auto& x) {
                  return weighted_sum(std::vector<Tensor>(x.begin(), x.begin() + n), x[n]);
                });
    }
  }
  batch.check();
}

TEST(MiscOpsParity, Concat) {
  ParityBatch batch;
  batch.add("concat axis 3", "concat", {{"axis", 3}},
            {random_float({4, 5, 5, 8}, 1), random_float({4, 5, 5, 3}, 2),
             random_float({4, 5, 5, 16}, 3)},
            [](const auto& x) { return concat(x, 3); });
  batch.add("concat axis 0", "concat", {{"axis", 0}},
            {random_float({2, 5, 5, 8}, 4), random_float({7, 5, 5, 8}, 5)},
            [](const auto& x) { return concat(x, 0); });
  batch.add("concat axis 1", "concat", {{"axis", 1}},
            {random_float({2, 3, 4}, 6), random_float({2, 1, 4}, 7), random_float({2, 5, 4}, 8)},
            [](const auto& x) { return concat(x, 1); });
  batch.check();
}

TEST(MiscOpsParity, ZeroOp) {
  ParityBatch batch;
  for (int64_t s : {1, 2}) {
    batch.add(fmt::format("zero_op stride {}", s), "zero_op", {{"stride", s}},
              {random_float({2, 7, 6, 3}, 1)}, [s](const auto& x) { return zero_op(x[0], s); });
  }
  batch.check();
}

TEST(MiscOpsParity, DropoutAndDropPath) {
  ParityBatch batch;
  const ParityOptions only_x{1e-5, {true, false}};
  for (double p : {0.1, 0.5, 0.8}) {
    const Shape s{8, 6, 6, 5};
    const uint64_t seed = 100 + static_cast<uint64_t>(p * 10);
    batch.add(
        fmt::format("dropout p={}", p), "masked_scale", {{"p", p}},
        {random_float(s, 1), drawn_mask(dropout, s, p, seed)},
        [p, seed](const auto& x) {
          Generator gen(seed);
          return dropout(x[0], p, true, gen);
        },
        only_x);
    batch.add(
        fmt::format("drop_path p={}", p), "masked_scale", {{"p", p}},
        // One draw per sample, so a [8] input draws the same mask as the [8, 6, 6, 5] one.
        {random_float(s, 2), drawn_mask(drop_path, {8}, p, seed)},
        [p, seed](const auto& x) {
          Generator gen(seed);
          return drop_path(x[0], p, true, gen);
        },
        only_x);
  }
  batch.check();
}

}  // namespace
}  // namespace fusenas
