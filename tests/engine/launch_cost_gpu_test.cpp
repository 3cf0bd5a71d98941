// Launch costs and the modelled H100 time: hand-worked bytes and FLOPs of a few launches, the
// model's per-launch maximum, the totals' reset, and the launch log (FUSENAS_LAUNCH_LOG) matching
// the launches made. Costs only: no test here times anything.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/darts_cell_harness.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::random_float;

// Logs the launches of one scope to a file of its own and reads them back.
class ScopedLaunchLog {
 public:
  ScopedLaunchLog()
      : path_(std::filesystem::temp_directory_path() /
              ("fusenas_launch_log_" +
               std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
               ".jsonl")) {
    cuda::synchronize();
    cuda::set_launch_log(path_.string());
    launches_before_ = cuda::launch_count();
  }
  ~ScopedLaunchLog() {
    cuda::set_launch_log("");
    std::filesystem::remove(path_);
  }

  // Closes the log and returns its lines, and the launches counted while it was open.
  std::vector<nlohmann::json> read(int64_t* launches) {
    *launches = cuda::launch_count() - launches_before_;
    cuda::set_launch_log("");
    std::vector<nlohmann::json> lines;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

 private:
  std::filesystem::path path_;
  int64_t launches_before_ = 0;
};

// The single line named `name`.
nlohmann::json only(const std::vector<nlohmann::json>& lines, const std::string& name) {
  nlohmann::json found;
  int count = 0;
  for (const auto& l : lines) {
    if (l["name"] == name) {
      found = l;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << name;
  return found;
}

TEST(LaunchModel, TakesTheSlowerOfMemoryAndArithmetic) {
  // 3.35 TB/s and 60 TFLOP/s: a second's worth of either is one second.
  EXPECT_DOUBLE_EQ(cuda::h100_model::device_seconds(3.35e12, 0), 1.0);
  EXPECT_DOUBLE_EQ(cuda::h100_model::device_seconds(0, 60e12), 1.0);
  EXPECT_DOUBLE_EQ(cuda::h100_model::device_seconds(3.35e12, 120e12), 2.0);
  cuda::LaunchTotals t;
  t.launches = 4;
  t.device_seconds = 1e-3;
  EXPECT_DOUBLE_EQ(t.eager_ms(), 1.008);  // 1 ms + 4 x 2 us
  EXPECT_DOUBLE_EQ(t.graph_ms(), 1.002);  // 1 ms + 4 x 0.5 us
}

TEST(LaunchCost, AddOfNFloatsMoves12NBytesAndDoesNFlops) {
  FUSENAS_REQUIRE_GPU();
  const Tensor a = random_float({1000}, 1).to(Device::cuda());
  const Tensor b = random_float({1000}, 2).to(Device::cuda());
  cuda::synchronize();
  cuda::reset_launch_totals();
  const int64_t before = cuda::launch_count();
  add(a, b);
  const cuda::LaunchTotals t = cuda::launch_totals();
  EXPECT_EQ(cuda::launch_count() - before, 1);
  EXPECT_EQ(t.launches, 1);
  EXPECT_EQ(t.bytes, 12000);  // two reads and one write of 1000 floats
  EXPECT_EQ(t.flops, 1000);
  // Memory bound: 12,000 B / 3.35 TB/s = 3.5821 ns, then 2 us eager or 0.5 us in a graph.
  EXPECT_NEAR(t.device_seconds, 3.5821e-9, 1e-13);
  EXPECT_NEAR(t.eager_ms(), 2.0035821e-3, 1e-10);
  EXPECT_NEAR(t.graph_ms(), 0.5035821e-3, 1e-10);
}

TEST(LaunchCost, MatmulDoes2MnkFlops) {
  FUSENAS_REQUIRE_GPU();
  const Tensor a = random_float({8, 16}, 3).to(Device::cuda());
  const Tensor b = random_float({16, 4}, 4).to(Device::cuda());
  ScopedLaunchLog log;
  matmul(a, b);
  int64_t launches = 0;
  const auto gemm = only(log.read(&launches), "cuBLAS gemm");
  EXPECT_EQ(gemm["flops"], 2 * 8 * 4 * 16);
  EXPECT_EQ(gemm["bytes"], (8 * 16 + 16 * 4 + 8 * 4) * 4);
}

TEST(LaunchCost, DenseConvDoes2NKCRSPQFlops) {
  FUSENAS_REQUIRE_GPU();
  // NHWC x [2, 5, 5, 3], weight [4, 3, 3, 3], padding 1: a 5x5 output of 4 channels.
  const Tensor x = random_float({2, 5, 5, 3}, 5).to(Device::cuda());
  const Tensor w = random_float({4, 3, 3, 3}, 6).to(Device::cuda());
  ScopedLaunchLog log;
  conv2d(x, w, Tensor(), Conv2dParams::square(1, 1));
  int64_t launches = 0;
  const auto lines = log.read(&launches);
  ASSERT_EQ(lines.size(), 1u);
  // N K C R S P Q = 2 4 3 3 3 5 5; x 150, w 108, y 200 floats.
  EXPECT_EQ(lines[0]["flops"], 2 * 2 * 4 * 3 * 3 * 3 * 5 * 5);
  EXPECT_EQ(lines[0]["bytes"], (150 + 108 + 200) * 4);
}

TEST(LaunchCost, TotalsSumTheModelLaunchByLaunchAndReset) {
  FUSENAS_REQUIRE_GPU();
  const Tensor a = random_float({1000}, 1).to(Device::cuda());
  const Tensor m = random_float({128, 128}, 7).to(Device::cuda());
  cuda::synchronize();
  cuda::reset_launch_totals();
  add(a, a);     // 12,000 B, 1,000 FLOPs: 3.5821 ns, memory bound
  matmul(m, m);  // 196,608 B, 2 x 128^3 = 4,194,304 FLOPs: 69.905 ns, arithmetic bound
  const cuda::LaunchTotals t = cuda::launch_totals();
  EXPECT_EQ(t.launches, 2);
  EXPECT_EQ(t.bytes, 12000 + 196608);
  EXPECT_EQ(t.flops, 1000 + 4194304);
  // 3.5821 + 69.9051 ns; the max of the sums would be only 69.922 ns.
  EXPECT_NEAR(t.device_seconds, 73.4872e-9, 1e-13);
  EXPECT_NEAR(t.eager_ms(), 4.0734872e-3, 1e-10);
  cuda::reset_launch_totals();
  const cuda::LaunchTotals z = cuda::launch_totals();
  EXPECT_EQ(z.launches, 0);
  EXPECT_EQ(z.bytes, 0);
  EXPECT_EQ(z.flops, 0);
  EXPECT_EQ(z.device_seconds, 0);
}

TEST(LaunchLog, HasOneLinePerLaunchWithItsNameAndCost) {
  FUSENAS_REQUIRE_GPU();
  const Tensor x = random_float({4, 6}, 8).to(Device::cuda());
  ScopedLaunchLog log;
  sum(relu(add(x, x)));
  int64_t launches = 0;
  const auto lines = log.read(&launches);
  EXPECT_EQ(static_cast<int64_t>(lines.size()), launches);
  std::set<std::string> names;
  for (const auto& l : lines) {
    names.insert(l["name"].get<std::string>());
    EXPECT_FALSE(l["captured"].get<bool>());
  }
  EXPECT_TRUE(names.contains("binary"));
  EXPECT_TRUE(names.contains("unary_forward"));
  EXPECT_EQ(only(lines, "unary_forward")["bytes"], 2 * 24 * 4);
}

TEST(LaunchLog, FusedCellLaunchesAllStateACost) {
  FUSENAS_REQUIRE_GPU();
  testing::CellHarness cell(testing::geometry_cases().front(), DType::Float32, 11, Device::cuda());
  ScopedLaunchLog log;
  cell.run(/*fused=*/true, /*training=*/true);
  int64_t launches = 0;
  const auto lines = log.read(&launches);
  EXPECT_EQ(static_cast<int64_t>(lines.size()), launches);
  std::set<std::string> names;
  for (const auto& l : lines) {
    const std::string name = l["name"].get<std::string>();
    names.insert(name);
    // A launch that moves no data would be free in the model: every launch here moves some.
    EXPECT_GT(l["bytes"].get<int64_t>(), 0) << name;
  }
  for (const char* name : {"darts_cell chain forward", "darts_cell node", "darts_cell node sums",
                           "darts_cell chain backward", "darts_cell gather"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
}

}  // namespace
}  // namespace fusenas
