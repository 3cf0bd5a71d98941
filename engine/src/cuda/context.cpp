// Per-device engine context, launch checks, TF32 switch and the public device queries.
#include "cuda/context.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "cuda/check.h"
#include "cuda/index_check.h"
#include "fusenas/engine/cuda.h"
#include "fusenas/kernels/index_check.h"

namespace fusenas::cuda {
namespace {

std::mutex g_mutex;
std::array<DeviceContext*, kMaxDevices> g_contexts{};
bool g_allow_tf32 = false;
std::atomic<int64_t> g_launches{0};
std::atomic<int64_t> g_host_syncs{0};
std::atomic<int> g_captures{0};

bool sync_debug() {
  static const bool enabled = [] {
    const char* v = std::getenv("FUSENAS_SYNC_DEBUG");
    return v != nullptr && std::string(v) == "1";
  }();
  return enabled;
}

void apply_math_mode(DeviceContext& ctx) {
  FUSENAS_CUBLAS_CHECK(cublasSetMathMode(
      ctx.cublas, g_allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}

}  // namespace

void note_launch(const char* what, LaunchCost cost) {
  g_launches.fetch_add(1, std::memory_order_relaxed);
  record_launch_cost(what, cost, capture_active());
}

int64_t launch_count() {
  return g_launches.load(std::memory_order_relaxed);
}
void reset_launch_count() {
  g_launches.store(0, std::memory_order_relaxed);
}

void note_host_sync() {
  g_host_syncs.fetch_add(1, std::memory_order_relaxed);
}
int64_t host_sync_count() {
  return g_host_syncs.load(std::memory_order_relaxed);
}

bool capture_active() {
  return g_captures.load(std::memory_order_relaxed) > 0;
}
void set_capture_active(bool active) {
  g_captures.fetch_add(active ? 1 : -1, std::memory_order_relaxed);
}

void check_launch(cudaError_t status, const char* what, LaunchCost cost, const char* file,
                  int line) {
  note_launch(what, cost);
  if (status == cudaSuccess) status = cudaGetLastError();
  // A device synchronisation during stream capture would invalidate the graph being captured.
  if (status == cudaSuccess && sync_debug() && !capture_active()) {
    status = cudaDeviceSynchronize();
  }
  if (status != cudaSuccess) {
    cudaGetLastError();  // a launcher's own runtime failure is recorded there too
    detail::throw_error(file, line,
                        fmt::format("CUDA kernel {} failed: {}", what, cudaGetErrorString(status)));
  }
}

DeviceContext& context(int device) {
  FUSENAS_CHECK(device >= 0 && device < kMaxDevices, "bad CUDA device index {}", device);
  FUSENAS_CUDA_CHECK(cudaSetDevice(device));
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_contexts[device] == nullptr) {
    FUSENAS_CHECK(device < device_count(), "CUDA device {} does not exist ({} visible)", device,
                  device_count());
    auto* ctx = new DeviceContext();  // lives for the process: handles outlive static tensors
    ctx->device = device;
    FUSENAS_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
    FUSENAS_CUBLAS_CHECK(cublasCreate(&ctx->cublas));
    FUSENAS_CUBLAS_CHECK(cublasSetStream(ctx->cublas, ctx->stream));
    FUSENAS_CUDNN_CHECK(cudnnCreate(&ctx->cudnn));
    FUSENAS_CUDNN_CHECK(cudnnSetStream(ctx->cudnn, ctx->stream));
    // Outside the caching allocator: the record lives as long as the context, and must not come
    // from a graph's private pool however the first check is reached.
    FUSENAS_CUDA_CHECK(cudaMalloc(&ctx->index_errors, sizeof(kernels::IndexErrorRecord)));
    FUSENAS_CUDA_CHECK(cudaMemset(ctx->index_errors, 0, sizeof(kernels::IndexErrorRecord)));
    apply_math_mode(*ctx);
    g_contexts[device] = ctx;
  }
  return *g_contexts[device];
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

DeviceProperties device_properties(int device) {
  cudaDeviceProp prop{};
  FUSENAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceProperties p;
  p.index = device;
  std::snprintf(p.name, sizeof(p.name), "%s", prop.name);
  p.major = prop.major;
  p.minor = prop.minor;
  p.multiprocessors = prop.multiProcessorCount;
  p.total_memory = static_cast<int64_t>(prop.totalGlobalMem);
  p.l2_cache_bytes = prop.l2CacheSize;
  return p;
}

void synchronize(int device) {
  note_host_sync();
  FUSENAS_CUDA_CHECK(cudaStreamSynchronize(context(device).stream));
  drain_index_errors(device);
}

void set_allow_tf32(bool allow) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_allow_tf32 = allow;
  for (auto* ctx : g_contexts) {
    if (ctx) apply_math_mode(*ctx);
  }
}

bool allow_tf32() {
  return g_allow_tf32;
}

}  // namespace fusenas::cuda
