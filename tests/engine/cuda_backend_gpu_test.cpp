// The CUDA backend's runtime side: the caching allocator (reuse, accounting, exact-size mode, the
// out-of-memory error, new blocks during graph capture), CUDA-graph replay, errors reported at the
// call that caused them, and host synchronisations.
#include <gtest/gtest.h>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "support/expect.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::random_float;

// Sets the allocator's caching for one test, whatever FUSENAS_CUDA_NO_CACHING chose.
class ScopedCaching {
 public:
  explicit ScopedCaching(bool on) : was_(cuda::memory_caching()) { cuda::set_memory_caching(on); }
  ~ScopedCaching() { cuda::set_memory_caching(was_); }

 private:
  bool was_;
};

TEST(CudaAllocator, ReusesFreedBlocksAndTracksPeak) {
  FUSENAS_REQUIRE_GPU();
  ScopedCaching caching(true);
  { Tensor warm = zeros({1 << 20}, TensorOptions{}.with_device(Device::cuda())); }
  cuda::synchronize();
  cuda::reset_peak_memory();
  const auto before = cuda::memory_stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = zeros({1 << 20}, TensorOptions{}.with_device(Device::cuda()));
  }
  const auto after = cuda::memory_stats();
  EXPECT_EQ(after.malloc_calls, before.malloc_calls)
      << "steady-state allocations must hit the cache";
  EXPECT_EQ(after.current_bytes, before.current_bytes);
  EXPECT_GE(after.peak_bytes, before.current_bytes + (int64_t(4) << 20));
  {
    Tensor a = zeros({1 << 20}, TensorOptions{}.with_device(Device::cuda()));
    Tensor b = zeros({1 << 20}, TensorOptions{}.with_device(Device::cuda()));
    EXPECT_GE(cuda::memory_stats().peak_bytes, before.current_bytes + (int64_t(8) << 20));
  }
}

TEST(CudaAllocator, WithoutCachingEveryTensorHasItsOwnAllocation) {
  FUSENAS_REQUIRE_GPU();
  ScopedCaching caching(false);
  cuda::synchronize();
  const auto before = cuda::memory_stats();
  for (int i = 0; i < 3; ++i) {
    Tensor t = zeros({1000}, TensorOptions{}.with_device(Device::cuda()));
    EXPECT_EQ(cuda::memory_stats().current_bytes, before.current_bytes + 4000);
  }
  const auto after = cuda::memory_stats();
  EXPECT_EQ(after.malloc_calls, before.malloc_calls + 3);
  EXPECT_EQ(after.current_bytes, before.current_bytes);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes) << "freed blocks must not be cached";
}

TEST(CudaAllocator, AbsurdAllocationThrowsAClearError) {
  FUSENAS_REQUIRE_GPU();
  testing::expect_error(
      [] { Tensor::empty({int64_t(1) << 45}, TensorOptions{}.with_device(Device::cuda())); },
      {"out of memory", "requested", "peak"});
}

TEST(CudaGraph, ReplayEqualsEagerExecution) {
  FUSENAS_REQUIRE_GPU();
  const auto cuda = TensorOptions{}.with_device(Device::cuda());
  Tensor w = random_float({16, 8}, 1).to(Device::cuda()).set_requires_grad();
  Tensor input = zeros({4, 16}, cuda);
  Tensor loss_out = zeros({}, cuda);
  auto step = [&] {
    w.set_grad(Tensor());
    Tensor loss = mean(square(tanh(matmul(input, w))));
    loss.backward();
    loss_out.copy_(loss);
    NoGradGuard guard;
    w.add_(w.grad(), -0.1);
  };
  // Eager reference on a copy of the weights.
  Tensor w_ref = w.detach().clone().set_requires_grad();
  std::vector<double> eager;
  for (int i = 0; i < 3; ++i) {
    Tensor batch = random_float({4, 16}, 10 + i).to(Device::cuda());
    w_ref.set_grad(Tensor());
    Tensor loss = mean(square(tanh(matmul(batch, w_ref))));
    loss.backward();
    eager.push_back(loss.item());
    NoGradGuard guard;
    w_ref.add_(w_ref.grad(), -0.1);
  }
  // The graph's warm-up run also takes a step: start it from the same weights.
  cuda::Graph graph;
  Tensor w_start = w.detach().clone();
  input.copy_(random_float({4, 16}, 10).to(Device::cuda()));
  graph.capture(step, 1);
  {
    NoGradGuard guard;
    w.copy_(w_start);
  }
  for (int i = 0; i < 3; ++i) {
    input.copy_(random_float({4, 16}, 10 + i).to(Device::cuda()));
    graph.replay();
    EXPECT_NEAR(loss_out.item(), eager[i], 1e-6) << "step " << i;
  }
  EXPECT_LE(testing::max_relative_error(w.detach(), w_ref.detach()), 1e-6);
}

TEST(CudaGraph, CaptureCanAllocateBlocksItsWarmUpNeverDid) {
  FUSENAS_REQUIRE_GPU();
  // The captured call allocates a tensor four times larger than any the warm-up left in the
  // graph's pool, so the pool needs a fresh cudaMalloc during capture: CUDA refuses that under
  // the capture's own mode (the emulator too), the allocator must switch to relaxed mode for it.
  const auto cuda = TensorOptions{}.with_device(Device::cuda());
  Tensor input = random_float({64}, 1).to(Device::cuda());
  Tensor out = zeros({}, cuda);
  int calls = 0;
  auto step = [&] {
    const int64_t repeat = ++calls == 1 ? 1 : 4;
    std::vector<Tensor> parts(static_cast<size_t>(repeat), input);
    out.copy_(sum(square(concat(parts, 0))));  // a fresh [64 * repeat] block
  };
  cuda::Graph graph;
  const int64_t mallocs_before = cuda::memory_stats().malloc_calls;
  graph.capture(step, 1);
  EXPECT_GT(cuda::memory_stats().malloc_calls, mallocs_before);
  input.copy_(random_float({64}, 2).to(Device::cuda()));
  graph.replay();
  double expected = 0;
  for (const float v : random_float({64}, 2).to_vector<float>()) expected += 4.0 * v * v;
  EXPECT_NEAR(out.item(), expected, 1e-4 * expected);
}

TEST(CudaErrors, AFailedCallIsNotBlamedOnTheNextLaunch) {
  FUSENAS_REQUIRE_GPU();
  // The runtime records a failed call's error for cudaGetLastError as well; left there, the next
  // launch check would throw it as that kernel's failure.
  EXPECT_THROW(cuda::synchronize(3), Error);  // no device 3: cudaSetDevice fails
  Tensor x = random_float({100}, 3).to(Device::cuda());
  EXPECT_NO_THROW(add(x, x).to(Device::cpu()));
}

TEST(CudaErrors, ABrokenCaptureLeavesNoErrorBehind) {
  FUSENAS_REQUIRE_GPU();
  Tensor x = random_float({100}, 4).to(Device::cuda());
  cuda::Graph graph;
  // Reading a value back synchronises the host, which CUDA forbids during capture; the capture
  // fails, and ending it records one more error in the last-error slot.
  EXPECT_THROW(graph.capture([&] { relu(x).item(); }, 0), Error);
  EXPECT_NO_THROW(relu(x).to(Device::cpu()));
}

TEST(CudaSyncs, OnlyReadsBackMakeTheHostWait) {
  FUSENAS_REQUIRE_GPU();
  Tensor x = random_float({8, 4}, 5).to(Device::cuda()).set_requires_grad();
  const Tensor labels = from_vector(std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}, {8},
                                    TensorOptions{}.with_dtype(DType::Int64))
                            .to(Device::cuda());
  cuda::synchronize();
  const int64_t before = cuda::host_sync_count();
  cross_entropy(x, labels).backward();
  EXPECT_EQ(cuda::host_sync_count(), before) << "an eager step must not wait for the device";
  x.grad().to(Device::cpu());
  EXPECT_GT(cuda::host_sync_count(), before);
}

}  // namespace
}  // namespace fusenas
