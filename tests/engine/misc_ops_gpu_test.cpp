// CUDA backend of softmax, log_softmax, cross_entropy, embedding, weighted_sum, concat, zero_op,
// dropout and drop_path against the CPU (forward and backward), masks bit for bit, and the
// label/index checks on the device (reported at the next read, also after a graph replay).
#include <gtest/gtest.h>

#include <string>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::random_float;

const TensorOptions kInt64 = TensorOptions{}.with_dtype(DType::Int64);

Tensor random_labels(const Shape& shape, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  return randint(shape, 0, classes, gen);
}

template <typename F>
void expect_error(F fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(MiscOpsGpu, SoftmaxAndLogSoftmax) {
  FUSENAS_REQUIRE_GPU();
  for (const Shape& s : std::vector<Shape>{{7, 10}, {3, 5, 33}, {2, 1000}, {4, 1}, {9}}) {
    for (const DType dtype : {DType::Float32, DType::Float64}) {
      const auto in = std::vector{random_float(s, 1, -4, 4).to(dtype)};
      const std::string tag = fmt::format("{} {}", shape_str(s), dtype_name(dtype));
      expect_cuda_matches_cpu("softmax " + tag, in,
                              [](const auto& v) { return std::vector{softmax(v[0])}; });
      expect_cuda_matches_cpu("log_softmax " + tag, in,
                              [](const auto& v) { return std::vector{log_softmax(v[0])}; });
    }
  }
  // A large logit offset: the max subtraction keeps exp finite.
  expect_cuda_matches_cpu("softmax offset", {random_float({5, 17}, 2, 80, 90)},
                          [](const auto& v) { return std::vector{softmax(v[0])}; });
}

TEST(MiscOpsGpu, CrossEntropy) {
  FUSENAS_REQUIRE_GPU();
  for (const auto& [n, k] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 10}, {64, 10}, {33, 257}, {1500, 3}}) {
    for (const DType dtype : {DType::Float32, DType::Float64}) {
      const auto in =
          std::vector{random_float({n, k}, 3, -3, 3).to(dtype), random_labels({n}, k, 4)};
      expect_cuda_matches_cpu(fmt::format("cross_entropy [{}, {}] {}", n, k, dtype_name(dtype)), in,
                              [](const auto& v) { return std::vector{cross_entropy(v[0], v[1])}; });
    }
  }
  // Composed with log_softmax, as a model might use it.
  expect_cuda_matches_cpu(
      "cross_entropy of log_softmax",
      {random_float({16, 12}, 5, -2, 2), random_labels({16}, 12, 6)},
      [](const auto& v) { return std::vector{cross_entropy(log_softmax(v[0]), v[1])}; });
}

TEST(MiscOpsGpu, CrossEntropyBadLabelsAreReportedAtTheNextRead) {
  FUSENAS_REQUIRE_GPU();
  Tensor logits = zeros({3, 4}).to(Device::cuda());
  auto labels = [](std::vector<int64_t> v) {
    return from_vector(v, {3}, kInt64).to(Device::cuda());
  };
  // The check runs on the device; the host learns of it where it waits anyway (here item()).
  expect_error(
      [&] {
        cross_entropy(logits, labels({0, 4, 1})).item();
      },
      {"cross_entropy", "label 4", "row 1", "[3, 4]", "[3]"});
  expect_error(
      [&] {
        cross_entropy(logits, labels({0, 1, -2})).item();
      },
      {"cross_entropy", "label -2", "row 2"});
  // The first bad row is the one reported, and of two bad calls the earlier one.
  expect_error(
      [&] {
        cross_entropy(logits, labels({7, 1, -2}));
        cross_entropy(logits, labels({0, 9, 1}));
        cuda::synchronize();
      },
      {"cross_entropy", "label 7", "row 0"});
  // A reported error is cleared: the next good call reads back without one.
  EXPECT_NO_THROW(cross_entropy(logits, labels({0, 1, 2})).item());
}

TEST(MiscOpsGpu, BadLabelsInACapturedStepAreReportedAfterTheReplay) {
  FUSENAS_REQUIRE_GPU();
  Tensor logits = random_float({4, 3}, 1).to(Device::cuda());
  Tensor labels = zeros({4}, kInt64).to(Device::cuda());
  Tensor loss = zeros({}).to(Device::cuda());
  cuda::Graph graph;
  graph.capture([&] { loss.copy_(cross_entropy(logits, labels)); }, 1);
  graph.replay();
  EXPECT_NO_THROW(loss.item());
  labels.copy_(from_vector(std::vector<int64_t>{0, 2, 5, 1}, {4}, kInt64).to(Device::cuda()));
  graph.replay();
  expect_error([&] { loss.item(); }, {"cross_entropy", "label 5", "row 2", "[4, 3]"});
}

TEST(MiscOpsGpu, Embedding) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    // Repeated indices accumulate; one row is never used.
    const auto in = std::vector{
        random_float({6, 5}, 7).to(dtype),
        from_vector(std::vector<int64_t>{5, 0, 5, 2, 5, 1, 0, 3, 5, 5}, {2, 5}, kInt64)};
    expect_cuda_matches_cpu(fmt::format("embedding small {}", dtype_name(dtype)), in,
                            [](const auto& v) { return std::vector{embedding(v[0], v[1])}; });
  }
  // A larger vocabulary and batch (several radix-sort digits, long runs).
  expect_cuda_matches_cpu("embedding large",
                          {random_float({3000, 33}, 8), random_labels({7, 311}, 3000, 9)},
                          [](const auto& v) { return std::vector{embedding(v[0], v[1])}; });
  expect_cuda_matches_cpu("embedding skewed",
                          {random_float({50, 64}, 10), random_labels({4000}, 3, 11)},
                          [](const auto& v) { return std::vector{embedding(v[0], v[1])}; });
  expect_cuda_matches_cpu(
      "embedding scalar index",
      {random_float({4, 3}, 12), from_vector(std::vector<int64_t>{2}, {}, kInt64)},
      [](const auto& v) { return std::vector{embedding(v[0], v[1])}; });
}

TEST(MiscOpsGpu, EmbeddingBadIndicesAreReportedAtTheNextRead) {
  FUSENAS_REQUIRE_GPU();
  Tensor w = zeros({5, 2}).to(Device::cuda());
  expect_error(
      [&] {
        embedding(w, from_vector(std::vector<int64_t>{0, 5}, {2}, kInt64).to(Device::cuda()))
            .to(Device::cpu());
      },
      {"embedding", "index 5", "position 1", "[5, 2]", "[2]"});
  expect_error(
      [&] {
        embedding(w, from_vector(std::vector<int64_t>{-1}, {1}, kInt64).to(Device::cuda()));
        cuda::synchronize();
      },
      {"embedding", "index -1"});
}

TEST(MiscOpsGpu, EmbeddingBackwardSkipsBadIndicesWithoutSplittingRuns) {
  FUSENAS_REQUIRE_GPU();
  // With 5 rows the sort looks at 3 key bits, where 11 and -5 read as 3: sorted by those bits
  // alone they would sit between the two 3s and split row 3's run in two. Row 3 must still sum
  // both of its positions, and the bad ones add nothing.
  Tensor w = zeros({5, 2}).to(Device::cuda()).set_requires_grad();
  const Tensor idx =
      from_vector(std::vector<int64_t>{3, 11, -5, 3, 1}, {5}, kInt64).to(Device::cuda());
  Tensor gy = from_vector(std::vector<float>{1, 2, 10, 20, 100, 200, 1000, 2000, 7, 8}, {5, 2})
                  .to(Device::cuda());
  embedding(w, idx).backward(gy);
  expect_error([] { cuda::synchronize(); }, {"embedding", "index 11", "position 1"});
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{0, 0, 7, 8, 0, 0, 1001, 2002, 0, 0}));
}

TEST(MiscOpsGpu, WeightedSum) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& s : std::vector<Shape>{{2, 3, 4}, {4, 16, 16, 32}, {40000}}) {
      std::vector<Tensor> in;
      for (int i = 0; i < 8; ++i) in.push_back(random_float(s, 20 + i).to(dtype));
      in.push_back(random_float({8}, 30, 0, 1).to(dtype));
      expect_cuda_matches_cpu(fmt::format("weighted_sum {} {}", shape_str(s), dtype_name(dtype)),
                              in, [](const auto& v) {
                                const std::vector<Tensor> xs(v.begin(), v.end() - 1);
                                return std::vector{weighted_sum(xs, v.back())};
                              });
    }
  }
  // More inputs than one launch carries (40), and constant weights (no dot products).
  std::vector<Tensor> many;
  for (int i = 0; i < 40; ++i) many.push_back(random_float({3, 50}, 40 + i));
  many.push_back(random_float({40}, 90));
  expect_cuda_matches_cpu("weighted_sum 40 inputs", many, [](const auto& v) {
    const std::vector<Tensor> xs(v.begin(), v.end() - 1);
    return std::vector{weighted_sum(xs, v.back())};
  });
  std::vector<bool> inputs_only(41, true);
  inputs_only.back() = false;
  expect_cuda_matches_cpu(
      "weighted_sum constant weights", many,
      [](const auto& v) {
        const std::vector<Tensor> xs(v.begin(), v.end() - 1);
        return std::vector{weighted_sum(xs, v.back())};
      },
      1e-5, inputs_only);
  // Only the weights need a gradient; and one tensor passed twice.
  expect_cuda_matches_cpu(
      "weighted_sum weights only",
      {random_float({5, 7}, 91), random_float({5, 7}, 92), random_float({2}, 93)},
      [](const auto& v) {
        return std::vector{weighted_sum({v[0], v[1]}, v[2])};
      },
      1e-5, {false, false, true});
  expect_cuda_matches_cpu("weighted_sum repeated input",
                          {random_float({5, 7}, 94), random_float({2}, 95)}, [](const auto& v) {
                            return std::vector{weighted_sum({v[0], v[0]}, v[1])};
                          });
}

TEST(MiscOpsGpu, Concat) {
  FUSENAS_REQUIRE_GPU();
  const auto in = std::vector{random_float({2, 3, 4, 5}, 50), random_float({2, 3, 4, 1}, 51),
                              random_float({2, 3, 4, 7}, 52)};
  for (const int64_t axis : {3, -1}) {
    expect_cuda_matches_cpu(fmt::format("concat axis {}", axis), in,
                            [axis](const auto& v) { return std::vector{concat(v, axis)}; });
  }
  const auto rows = std::vector{random_float({2, 3, 4, 5}, 53), random_float({4, 3, 4, 5}, 54)};
  expect_cuda_matches_cpu("concat axis 0", rows,
                          [](const auto& v) { return std::vector{concat(v, 0)}; });
  const auto mid = std::vector{random_float({2, 3, 4, 5}, 55), random_float({2, 1, 4, 5}, 56),
                               random_float({2, 0, 4, 5}, 57)};
  expect_cuda_matches_cpu("concat axis 1 with an empty input", mid,
                          [](const auto& v) { return std::vector{concat(v, 1)}; });
  // A permuted (strided) input, and float64.
  expect_cuda_matches_cpu("concat strided",
                          {random_float({2, 3, 4, 5}, 58), random_float({2, 3, 5, 4}, 59)},
                          [](const auto& v) {
                            return std::vector{concat({v[0], v[1].permute({0, 1, 3, 2})}, 2)};
                          });
  expect_cuda_matches_cpu(
      "concat float64",
      {random_float({3, 2}, 60).to(DType::Float64), random_float({3, 5}, 61).to(DType::Float64)},
      [](const auto& v) { return std::vector{concat(v, 1)}; });
  // Integer tensors concatenate exactly.
  Tensor a = random_labels({3, 4}, 100, 62), b = random_labels({3, 2}, 100, 63);
  EXPECT_EQ(concat({a.to(Device::cuda()), b.to(Device::cuda())}, 1).to_vector<int64_t>(),
            concat({a, b}, 1).to_vector<int64_t>());
}

TEST(MiscOpsGpu, ZeroOp) {
  FUSENAS_REQUIRE_GPU();
  for (const int64_t stride : {1, 2}) {
    expect_cuda_matches_cpu(fmt::format("zero_op stride {}", stride),
                            {random_float({2, 5, 4, 3}, 70)},
                            [stride](const auto& v) { return std::vector{zero_op(v[0], stride)}; });
  }
}

// Both devices draw from a fresh Generator with the same seed: outputs, gradients and the exact
// zero pattern (the mask; x is never zero) must agree.
void expect_same_masks(const std::string& label, const Shape& shape, double p, bool per_sample,
                       DType dtype) {
  SCOPED_TRACE(label);
  const auto fn = [p, per_sample](const std::vector<Tensor>& v) {
    Generator gen(1234);
    gen.reserve(3);  // start somewhere other than block 0
    return std::vector{per_sample ? drop_path(v[0], p, true, gen) : dropout(v[0], p, true, gen)};
  };
  const Tensor x = random_float(shape, 80, 0.5, 1.5).to(dtype);
  expect_cuda_matches_cpu(label, {x}, fn);
  const auto cpu = fn({x})[0].to_vector<double>();
  const auto gpu = fn({x.to(Device::cuda())})[0].to_vector<double>();
  ASSERT_EQ(cpu.size(), gpu.size());
  int64_t kept = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_EQ(cpu[i] == 0, gpu[i] == 0) << "mask differs at element " << i;
    kept += cpu[i] != 0;
  }
  if (p > 0 && p < 1 && cpu.size() > 1000) {
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, static_cast<int64_t>(cpu.size()));
  }
}

TEST(MiscOpsGpu, DropoutMasksEqualTheCpu) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& s : std::vector<Shape>{{7}, {3, 5, 11}, {4, 32, 32, 16}}) {
      for (const double p : {0.1, 0.5, 0.9}) {
        expect_same_masks(fmt::format("dropout {} p={} {}", shape_str(s), p, dtype_name(dtype)), s,
                          p, false, dtype);
      }
    }
  }
}

TEST(MiscOpsGpu, DropPathMasksEqualTheCpu) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& s : std::vector<Shape>{{1, 3}, {7, 4, 4, 3}, {64, 8, 8, 5}, {3}}) {
      for (const double p : {0.2, 0.7}) {
        expect_same_masks(fmt::format("drop_path {} p={} {}", shape_str(s), p, dtype_name(dtype)),
                          s, p, true, dtype);
      }
    }
  }
  // p = 1 drops everything (no draw); eval is the identity.
  expect_cuda_matches_cpu("drop_path p=1", {random_float({4, 3, 3, 2}, 81)}, [](const auto& v) {
    Generator gen(5);
    return std::vector{drop_path(v[0], 1.0, true, gen)};
  });
}

}  // namespace
}  // namespace fusenas
