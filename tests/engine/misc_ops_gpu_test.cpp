// CUDA misc ops beyond their case tables (checked against the CPU by op_cases_gpu_test): the
// label/index checks on the device (reported at the next read, also after a graph replay), the
// embedding backward around bad indices, exact integer concat, and dropout/drop_path masks equal
// to the CPU's bit for bit.
#include <gtest/gtest.h>

#include <string>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/expect.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::expect_error;
using testing::random_float;

const TensorOptions kInt64 = TensorOptions{}.with_dtype(DType::Int64);

Tensor random_labels(const Shape& shape, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  return randint(shape, 0, classes, gen);
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

TEST(MiscOpsGpu, ConcatOfIntegersIsExact) {
  FUSENAS_REQUIRE_GPU();
  Tensor a = random_labels({3, 4}, 100, 62), b = random_labels({3, 2}, 100, 63);
  EXPECT_EQ(concat({a.to(Device::cuda()), b.to(Device::cuda())}, 1).to_vector<int64_t>(),
            concat({a, b}, 1).to_vector<int64_t>());
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
