// softmax, cross_entropy, embedding, weighted_sum, concat, zero_op, dropout and drop_path beyond
// their case tables (tests/cases/): the chunked weighted-sum backward, dropout's gradient with a
// fixed mask, hand-worked values, RNG invariants and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/kernels/philox.h"
#include "support/expect.h"
#include "support/gradcheck.h"

namespace fusenas {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::random_double;

Tensor labels_of(const std::vector<int64_t>& v, const Shape& shape) {
  return from_vector(v, shape, TensorOptions{}.with_dtype(DType::Int64));
}

Tensor dvec(const std::vector<double>& v, const Shape& shape, bool requires_grad = false) {
  return from_vector(v, shape, TensorOptions{}.with_dtype(DType::Float64))
      .set_requires_grad(requires_grad);
}

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected,
                     double tol = 1e-12) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << i;
}

// ---- Gradient checks ----

TEST(MiscOpsGrad, WeightedSumWeightGradientsAreDotProducts) {
  // Large enough to run in several chunks of the backward; each weight's gradient is the dot
  // product of the output gradient with its input.
  Tensor big0 = random_double({40000}, 12), big1 = random_double({40000}, 13),
         bw = random_double({2}, 14);
  Tensor gy = random_double({40000}, 15, -1, 1, false);
  weighted_sum({big0, big1}, bw).backward(gy);
  const auto g = gy.to_vector<double>(), x0 = big0.to_vector<double>(),
             x1 = big1.to_vector<double>();
  double d0 = 0, d1 = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    d0 += g[i] * x0[i];
    d1 += g[i] * x1[i];
  }
  expect_near_all(bw.grad().to_vector<double>(), {d0, d1}, 1e-9);
}

TEST(MiscOpsGrad, DropoutAndDropPath) {
  Tensor x = random_double({4, 3, 2, 5}, 24);
  for (double p : {0.2, 0.5}) {
    // A fresh generator per evaluation: every evaluation draws the same mask.
    expect_gradients_match(
        [p](const auto& v) {
          Generator gen(77);
          return dropout(v[0], p, true, gen);
        },
        {x});
    expect_gradients_match(
        [p](const auto& v) {
          Generator gen(78);
          return drop_path(v[0], p, true, gen);
        },
        {x});
  }
  expect_gradients_match(
      [](const auto& v) {
        Generator gen(79);
        return dropout(v[0], 1.0, true, gen);
      },
      {x});
}

// ---- Hand-worked values ----

TEST(MiscOpsValues, SoftmaxOfZeroAndLn2) {
  Tensor x = dvec({0, std::log(2.0), 5, 5}, {2, 2});
  expect_near_all(softmax(x).to_vector<double>(), {1.0 / 3, 2.0 / 3, 0.5, 0.5});
  expect_near_all(log_softmax(x).to_vector<double>(),
                  {std::log(1.0 / 3), std::log(2.0 / 3), std::log(0.5), std::log(0.5)});
  // Max subtraction keeps huge logits finite.
  Tensor big = from_vector(std::vector<float>{1000, 1001}, {2});
  const auto y = softmax(big).to_vector<float>();
  EXPECT_NEAR(y[0], 1 / (1 + std::exp(1.0)), 1e-6);
  EXPECT_NEAR(y[1], std::exp(1.0) / (1 + std::exp(1.0)), 1e-6);
}

TEST(MiscOpsValues, CrossEntropyTwoClasses) {
  // Row 0: p = [1/4, 3/4], label 1 -> -log(3/4). Row 1: p = [1/2, 1/2], label 0 -> log 2.
  Tensor logits = dvec({0, std::log(3.0), 7, 7}, {2, 2}, true);
  Tensor loss = cross_entropy(logits, labels_of({1, 0}, {2}));
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), 0.5 * (std::log(4.0 / 3) + std::log(2.0)), 1e-12);
  loss.backward();
  // (softmax - onehot) / N
  expect_near_all(logits.grad().to_vector<double>(),
                  {0.25 / 2, (0.75 - 1) / 2, (0.5 - 1) / 2, 0.5 / 2});
}

TEST(MiscOpsValues, WeightedSumOfTwoTensors) {
  Tensor x0 = dvec({1, 2}, {2}, true), x1 = dvec({3, 5}, {2}, true), w = dvec({2, -1}, {2}, true);
  Tensor y = weighted_sum({x0, x1}, w);
  expect_near_all(y.to_vector<double>(), {-1, -1});
  y.backward(dvec({1, 10}, {2}));
  expect_near_all(x0.grad().to_vector<double>(), {2, 20});
  expect_near_all(x1.grad().to_vector<double>(), {-1, -10});
  expect_near_all(w.grad().to_vector<double>(), {1 + 20, 3 + 50});
}

TEST(MiscOpsValues, EmbeddingGathersAndScatterAdds) {
  Tensor w = dvec({1, 2, 3, 4, 5, 6}, {3, 2}, true);
  Tensor y = embedding(w, labels_of({2, 0, 2}, {3}));
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  expect_near_all(y.to_vector<double>(), {5, 6, 1, 2, 5, 6});
  y.backward(dvec({1, 2, 3, 4, 5, 6}, {3, 2}));
  expect_near_all(w.grad().to_vector<double>(), {3, 4, 0, 0, 1 + 5, 2 + 6});
  EXPECT_EQ(embedding(w, labels_of({0, 1, 2, 1}, {2, 2})).shape(), (Shape{2, 2, 2}));
}

TEST(MiscOpsValues, ConcatJoinsAlongAxis) {
  Tensor a = from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  Tensor b = from_vector(std::vector<float>{5, 6}, {2, 1});
  EXPECT_EQ(concat({a, b}, 1).to_vector<float>(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  Tensor c = from_vector(std::vector<float>{7, 8}, {1, 2});
  EXPECT_EQ(concat({a, c}, 0).to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 7, 8}));
  // An input with nothing along the axis contributes nothing and gets an empty gradient.
  Tensor empty = zeros({2, 0}).set_requires_grad();
  Tensor ae = a.detach().set_requires_grad();
  Tensor y = concat({empty, ae, empty}, 1);
  EXPECT_EQ(y.to_vector<float>(), a.to_vector<float>());
  y.backward(from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(ae.grad().to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(empty.grad().shape(), (Shape{2, 0}));
  Tensor i = from_vector(std::vector<int64_t>{1, 2}, {2}, TensorOptions{}.with_dtype(DType::Int64));
  EXPECT_EQ(concat({i, i}, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 1, 2}));
}

TEST(MiscOpsValues, ZeroOpShapeAndGradient) {
  Tensor x = ones({2, 5, 4, 3}).set_requires_grad();
  Tensor y = zero_op(x, 2);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2, 3}));
  for (float v : y.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(zero_op(x, 1).shape(), x.shape());
  sum(y).backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().shape(), x.shape());
  for (float v : x.grad().to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

// ---- RNG invariants ----

TEST(MiscOpsDropout, KeepsAboutOneMinusPAndPreservesTheMean) {
  const int64_t n = 100000;
  for (double p : {0.1, 0.3, 0.7}) {
    Generator gen(5);
    const auto y = dropout(full({n}, 2.5), p, true, gen).to_vector<float>();
    int64_t kept = 0;
    double total = 0;
    for (float v : y) {
      if (v != 0.0f) {
        ++kept;
        EXPECT_FLOAT_EQ(v, static_cast<float>(2.5 / (1 - p)));
      }
      total += v;
    }
    // 5 standard deviations of a binomial proportion (at most 0.0016 here).
    EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 5 * std::sqrt(p * (1 - p) / n)) << p;
    EXPECT_NEAR(total / n, 2.5, 2.5 * 5 * std::sqrt(p / ((1 - p) * n))) << p;
  }
}

TEST(MiscOpsDropout, MaskFollowsThePhiloxCounterScheme) {
  // What a CUDA kernel must reproduce: element i uses word i % 4 of block first + i / 4.
  const double p = 0.4;
  const uint64_t seed = 1234;
  Generator gen(seed);
  gen.next_u32();  // a partly used block: reserve starts on the next one
  const uint64_t first = gen.state().offset;
  const int64_t n = 1001;
  const auto y = dropout(ones({n}), p, true, gen).to_vector<float>();
  EXPECT_EQ(gen.state().offset, first + (n + 3) / 4);
  for (int64_t i = 0; i < n; ++i) {
    const float u = kernels::philox_uniform(kernels::philox4x32(seed, first + i / 4).v[i % 4]);
    EXPECT_EQ(y[i] != 0.0f, u < static_cast<float>(1 - p)) << i;
  }
  // drop_path: one draw per sample, same scheme.
  Generator gen2(seed);
  const auto z = drop_path(ones({9, 2, 2, 3}), p, true, gen2).to_vector<float>();
  for (int64_t s = 0; s < 9; ++s) {
    const float u = kernels::philox_uniform(kernels::philox4x32(seed, s / 4).v[s % 4]);
    EXPECT_EQ(z[s * 12] != 0.0f, u < static_cast<float>(1 - p)) << s;
  }
}

TEST(MiscOpsDropout, DropPathZeroesWholeSamples) {
  const int64_t samples = 2000;
  Generator gen(6);
  const double p = 0.25;
  const auto y = drop_path(full({samples, 3, 3, 4}, 1.5), p, true, gen).to_vector<float>();
  int64_t kept = 0;
  for (int64_t s = 0; s < samples; ++s) {
    const float first = y[s * 36];
    EXPECT_TRUE(first == 0.0f || first == static_cast<float>(1.5 / (1 - p))) << first;
    for (int64_t j = 1; j < 36; ++j) ASSERT_EQ(y[s * 36 + j], first) << "sample " << s;
    kept += first != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / samples, 1 - p, 5 * std::sqrt(p * (1 - p) / samples));
}

TEST(MiscOpsDropout, IdentityWhenEvalOrPZero) {
  Tensor x = testing::random_double({3, 4}, 30);
  Generator gen(1);
  const GeneratorState before = gen.state();
  for (auto op : {dropout, drop_path}) {
    EXPECT_EQ(op(x, 0.5, false, gen).to_vector<double>(), x.to_vector<double>());
    EXPECT_EQ(op(x, 0.0, true, gen).to_vector<double>(), x.to_vector<double>());
  }
  EXPECT_EQ(gen.state().offset, before.offset) << "identity must not consume randomness";
  // p = 1 drops everything, with a zero gradient.
  Tensor y = dropout(x, 1.0, true, gen);
  for (double v : y.to_vector<double>()) EXPECT_EQ(v, 0.0);
  sum(y).backward();
  for (double v : x.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
}

TEST(MiscOpsDropout, SeededReproducibility) {
  Tensor x = ones({4096});
  Generator a(42), b(42);
  const auto first = dropout(x, 0.5, true, a).to_vector<float>();
  EXPECT_EQ(first, dropout(x, 0.5, true, b).to_vector<float>());
  // The generator advances: the next call draws a different mask.
  EXPECT_NE(first, dropout(x, 0.5, true, a).to_vector<float>());
  // float and double draw the same mask.
  Generator c(42);
  const auto d = dropout(ones({4096}, TensorOptions{}.with_dtype(DType::Float64)), 0.5, true, c)
                     .to_vector<double>();
  for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(d[i] != 0.0, first[i] != 0.0f) << i;
  Generator e(43);
  EXPECT_NE(first, dropout(x, 0.5, true, e).to_vector<float>());
}

TEST(MiscOpsDropout, BackwardUsesTheForwardMask) {
  Tensor x = ones({1000}).set_requires_grad();
  Generator gen(9);
  Tensor y = dropout(x, 0.3, true, gen);
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), y.to_vector<float>());  // x = 1: grad = mask * scale
}

// ---- Graph hygiene ----

TEST(MiscOpsAutograd, SavedTensorsDoNotKeepTheGraphAlive) {
  std::vector<std::weak_ptr<Node>> nodes;
  {
    Tensor x = ones({4, 3}).set_requires_grad();
    Generator gen(1);
    Tensor labels = labels_of({0, 1, 2, 0}, {4});
    const std::vector<Tensor> outs = {softmax(x),
                                      log_softmax(x),
                                      cross_entropy(x, labels),
                                      embedding(x, labels),
                                      weighted_sum({x, x}, ones({2}).set_requires_grad()),
                                      concat({x, x}, 1),
                                      zero_op(x.reshape({1, 4, 3, 1}), 2),
                                      dropout(x, 0.5, true, gen),
                                      drop_path(x, 0.5, true, gen)};
    for (const auto& y : outs) {
      ASSERT_TRUE(y.grad_fn() != nullptr);
      nodes.push_back(y.grad_fn());
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_TRUE(nodes[i].expired()) << "op " << i << " formed a reference cycle";
  }
}

// ---- Errors ----

TEST(MiscOpsErrors, CrossEntropyLabels) {
  Tensor logits = zeros({3, 4});
  expect_error(
      [&] {
        cross_entropy(logits, labels_of({0, 4, 1}, {3}));
      },
      {"cross_entropy", "label 4", "[3, 4]", "[3]"});
  expect_error(
      [&] {
        cross_entropy(logits, labels_of({0, 1, -2}, {3}));
      },
      {"cross_entropy", "label -2", "[3, 4]"});
  expect_error([&] { cross_entropy(logits, zeros({3})); }, {"cross_entropy", "int64", "[3, 4]"});
  expect_error(
      [&] {
        cross_entropy(logits, labels_of({0, 1, 2, 3}, {4}));
      },
      {"cross_entropy", "[3, 4]", "[4]"});
  expect_error(
      [&] {
        cross_entropy(logits, labels_of({0, 1, 2}, {3, 1}));
      },
      {"cross_entropy", "[3, 4]", "[3, 1]"});
  expect_error(
      [&] {
        cross_entropy(zeros({3, 4, 1}), labels_of({0, 1, 2}, {3}));
      },
      {"cross_entropy", "[3, 4, 1]"});
}

TEST(MiscOpsErrors, Embedding) {
  Tensor w = zeros({5, 2});
  expect_error(
      [&] {
        embedding(w, labels_of({0, 5}, {2}));
      },
      {"embedding", "index 5", "[5, 2]", "[2]"});
  expect_error([&] { embedding(w, labels_of({-1}, {1})); }, {"embedding", "index -1"});
  expect_error([&] { embedding(w, zeros({2})); }, {"embedding", "int64"});
  expect_error([&] { embedding(zeros({5}), labels_of({0}, {1})); }, {"embedding", "[5]"});
}

TEST(MiscOpsErrors, WeightedSum) {
  expect_error(
      [] {
        weighted_sum({zeros({2, 3}), zeros({3, 2})}, zeros({2}));
      },
      {"weighted_sum", "[2, 3]", "[3, 2]"});
  expect_error(
      [] {
        weighted_sum({zeros({2, 3}), zeros({2, 3})}, zeros({3}));
      },
      {"weighted_sum", "[3]", "[2, 3]"});
  expect_error([] { weighted_sum({zeros({2, 3})}, zeros({1, 1})); }, {"weighted_sum", "[1, 1]"});
  expect_error([] { weighted_sum({}, zeros({0})); }, {"weighted_sum"});
  expect_error(
      [] {
        weighted_sum({zeros({2}), zeros({2}, TensorOptions{}.with_dtype(DType::Float64))},
                     zeros({2}));
      },
      {"weighted_sum", "dtype"});
}

TEST(MiscOpsErrors, Concat) {
  expect_error(
      [] {
        concat({zeros({2, 3, 4}), zeros({2, 5, 4})}, 2);
      },
      {"concat", "[2, 3, 4]", "[2, 5, 4]"});
  expect_error(
      [] {
        concat({zeros({2, 3}), zeros({2, 3, 1})}, 0);
      },
      {"concat", "[2, 3]", "[2, 3, 1]"});
  expect_error([] { concat({zeros({2, 3}), zeros({2, 3})}, 2); }, {"concat"});
  expect_error([] { concat({}, 0); }, {"concat"});
}

TEST(MiscOpsErrors, ZeroOpAndDropout) {
  expect_error([] { zero_op(zeros({2, 3}), 1); }, {"zero_op", "[2, 3]"});
  expect_error([] { zero_op(zeros({1, 2, 2, 1}), 0); }, {"zero_op", "stride"});
  Generator gen(1);
  expect_error([&] { dropout(zeros({2}), 1.5, true, gen); }, {"dropout", "p must"});
  expect_error([&] { drop_path(zeros({2}), -0.1, true, gen); }, {"drop_path", "p must"});
  expect_error([&] { softmax(zeros({}, TensorOptions{})); }, {"softmax"});
}

}  // namespace
}  // namespace fusenas
