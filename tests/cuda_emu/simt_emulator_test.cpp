// The CUDA emulator itself, on hand-written kernels whose results are known: thread and block
// indices, barriers, each warp shuffle, launch-configuration errors, divergence detection, and
// stream capture (work recorded, replayed, host syncs refused). The gpu tests' verdicts on the
// emulator are only as good as these behaviours.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "fusenas_emu/kernel_prelude.h"

namespace {

using fusenas::emu::launch;
using fusenas::emu::LaunchConfig;

__global__ void write_global_index(int* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = i;
}

// Each block reverses its 64 values through shared memory: needs the barrier to be real.
__global__ void reverse_in_block(const int* in, int* out) {
  __shared__ int tile[64];
  const int base = blockIdx.x * 64;
  tile[threadIdx.x] = in[base + threadIdx.x];
  __syncthreads();
  out[base + threadIdx.x] = tile[63 - threadIdx.x];
}

__global__ void shuffles(int* xor_out, int* down_out, int* up_out, int* idx_out) {
  const int lane = threadIdx.x;
  xor_out[lane] = __shfl_xor_sync(0xffffffffu, lane * 10, 1);
  down_out[lane] = __shfl_down_sync(0xffffffffu, lane * 10, 4);
  up_out[lane] = __shfl_up_sync(0xffffffffu, lane * 10, 4);
  idx_out[lane] = __shfl_sync(0xffffffffu, lane * 10, 7);
}

__global__ void warp_sum_kernel(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  out[threadIdx.x] = v;
}

__global__ void half_warp_exits_then_shuffles(int* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
}

// Half a warp waits at a barrier while the other half shuffles with it: undefined on a GPU.
__global__ void barrier_against_shuffle(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
  }
}

// Exited threads do not hold a barrier up (as on sm_70 and later): this one is well defined.
__global__ void first_warp_exits_before_barrier(int* out) {
  if (threadIdx.x < 32) return;
  out[threadIdx.x] = 1;
  __syncthreads();
  out[threadIdx.x] = 2;
}

void run(const LaunchConfig& c, auto kernel, auto... args) {
  launch(
      c, "test kernel", [=](auto... a) { kernel(a...); }, args...);
}

TEST(SimtEmulator, IndicesCoverTheGridOnce) {
  std::vector<int> out(5 * 96, -1);
  run(LaunchConfig(5, 96), write_global_index, out.data());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  for (int i = 0; i < 5 * 96; ++i) EXPECT_EQ(out[i], i);
}

TEST(SimtEmulator, BarrierOrdersSharedMemory) {
  std::vector<int> in(3 * 64), out(3 * 64, -1);
  std::iota(in.begin(), in.end(), 0);
  run(LaunchConfig(3, 64), reverse_in_block, in.data(), out.data());
  for (int b = 0; b < 3; ++b) {
    for (int t = 0; t < 64; ++t) EXPECT_EQ(out[b * 64 + t], b * 64 + 63 - t);
  }
}

TEST(SimtEmulator, ShufflesFollowCudaSemantics) {
  std::vector<int> x(32), d(32), u(32), s(32);
  run(LaunchConfig(1, 32), shuffles, x.data(), d.data(), u.data(), s.data());
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(x[lane], (lane ^ 1) * 10);
    // Out-of-range sources return the caller's own value.
    EXPECT_EQ(d[lane], (lane + 4 < 32 ? lane + 4 : lane) * 10);
    EXPECT_EQ(u[lane], (lane >= 4 ? lane - 4 : lane) * 10);
    EXPECT_EQ(s[lane], 70);
  }
}

TEST(SimtEmulator, ButterflySumGivesEveryLaneTheTotal) {
  std::vector<float> in(64), out(64);
  std::iota(in.begin(), in.end(), 1.0f);
  run(LaunchConfig(1, 64), warp_sum_kernel, in.data(), out.data());
  for (int t = 0; t < 32; ++t) EXPECT_EQ(out[t], 528.0f);    // 1 + ... + 32
  for (int t = 32; t < 64; ++t) EXPECT_EQ(out[t], 1552.0f);  // 33 + ... + 64
}

TEST(SimtEmulator, BadLaunchConfigurationsAreRefused) {
  std::vector<int> out(2048, -1);
  run(LaunchConfig(1, 2048), write_global_index, out.data());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(out[0], -1) << "a refused launch must not run";
  run(LaunchConfig(dim3(1, 70000), 32), write_global_index, out.data());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the error is not sticky";
}

TEST(SimtEmulator, ExitedThreadsDoNotHoldABarrierUp) {
  std::vector<int> out(64, 0);
  run(LaunchConfig(1, 64), first_warp_exits_before_barrier, out.data());
  for (int t = 32; t < 64; ++t) EXPECT_EQ(out[t], 2);
}

TEST(SimtEmulatorDeathTest, UndefinedSynchronisationAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<int> out(64);
  EXPECT_DEATH(run(LaunchConfig(1, 32), half_warp_exits_then_shuffles, out.data()),
               "names a lane that has exited");
  EXPECT_DEATH(run(LaunchConfig(1, 32), barrier_against_shuffle, out.data()), "is at a barrier");
}

TEST(SimtEmulator, CaptureRecordsReplaysAndRefusesHostSyncs) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  std::vector<int> out(32, -1);
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  run(LaunchConfig(1, 32, 0, stream), write_global_index, out.data());
  EXPECT_EQ(out[5], -1) << "captured work must not run at capture time";
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  EXPECT_EQ(out[5], 5);

  // A host sync inside capture is refused and breaks the capture, as in CUDA.
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorStreamCaptureUnsupported);
  cudaGraph_t broken = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream, &broken), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(broken, nullptr);
  cudaGetLastError();
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

}  // namespace
