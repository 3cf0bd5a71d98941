// gpu_check.sh's preflight probe: settles, on the real driver, what the engine's allocator assumes
// about stream capture. A kernel runs; cudaMalloc inside a thread-local capture is allowed once the
// thread switches to relaxed mode, and the captured graph then replays; without the switch CUDA
// refuses it and invalidates the capture (why the allocator switches).
#include <cuda_runtime.h>

#include <cstdio>

__global__ void add_one(float* x) {
  x[threadIdx.x] += 1.0f;
}

#define PROBE_CHECK(e)                                                                \
  do {                                                                                \
    const cudaError_t probe_status = (e);                                             \
    if (probe_status != cudaSuccess)                                                  \
      return std::printf("probe: %s: %s\n", #e, cudaGetErrorString(probe_status)), 1; \
  } while (0)

int main() {
  int runtime = 0, driver = 0, n = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::printf("probe: no CUDA device (runtime %d, driver %d)\n", runtime, driver);
    return 3;
  }
  cudaDeviceProp p{};
  PROBE_CHECK(cudaGetDeviceProperties(&p, 0));
  std::printf("probe: %s, sm_%d%d, runtime %d, driver %d\n", p.name, p.major, p.minor, runtime,
              driver);
  float* x = nullptr;
  void *relaxed_block = nullptr, *strict_block = nullptr;
  cudaStream_t s = nullptr;
  PROBE_CHECK(cudaMalloc(&x, 32 * sizeof(float)));
  PROBE_CHECK(cudaMemset(x, 0, 32 * sizeof(float)));
  PROBE_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  PROBE_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  add_one<<<1, 32, 0, s>>>(x);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  PROBE_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  const cudaError_t relaxed = cudaMalloc(&relaxed_block, 1 << 20);
  PROBE_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  PROBE_CHECK(cudaStreamEndCapture(s, &graph));
  PROBE_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  PROBE_CHECK(cudaGraphLaunch(exec, s));
  PROBE_CHECK(cudaGraphLaunch(exec, s));
  float h[32] = {};
  PROBE_CHECK(cudaStreamSynchronize(s));
  PROBE_CHECK(cudaMemcpy(h, x, sizeof(h), cudaMemcpyDeviceToHost));
  std::printf("probe: cudaMalloc during relaxed capture: %s; two replays give %g (expect 2)\n",
              cudaGetErrorString(relaxed), h[0]);
  PROBE_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  const cudaError_t strict = cudaMalloc(&strict_block, 1 << 20);
  cudaGraph_t broken = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(s, &broken);
  cudaGetLastError();
  std::printf("probe: cudaMalloc during thread-local capture: %s; ending it: %s\n",
              cudaGetErrorString(strict), cudaGetErrorString(ended));
  return relaxed == cudaSuccess && h[0] == 2.0f ? 0 : 1;
}
