// The CUDA runtime calls FuseNAS makes, on the host: device memory is host memory, streams run
// their work at once, and capture records work into a graph that replays it. Calls that CUDA
// forbids while a stream captures (synchronising the host; cudaMalloc and cudaFree unless the
// thread's capture mode is relaxed) fail the same way here.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "fusenas_emu/stream.h"
#include "runtime_state.h"

// The runtime's opaque handle types are ours to define.
struct CUstream_st {
  bool capturing = false;
  bool capture_broken = false;
  cudaStreamCaptureMode capture_mode = cudaStreamCaptureModeGlobal;
  std::thread::id capture_thread;
  std::vector<std::function<void()>> captured;
};
struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point when{};
  bool recorded = false;
  bool recorded_in_capture = false;
};

namespace fusenas::emu {
namespace {

// The emulated card: big enough for every test, small enough that an absurd request fails.
constexpr size_t kTotalMemory = size_t(16) << 30;
constexpr size_t kAlignment = 256;

std::recursive_mutex g_mutex;
cudaError_t g_last_error = cudaSuccess;
std::map<void*, size_t> g_allocations;
size_t g_allocated = 0;
CUstream_st g_legacy_stream;
std::vector<CUstream_st*> g_capturing;  // streams with an open capture
// cudaThreadExchangeStreamCaptureMode's per-thread mode.
thread_local cudaStreamCaptureMode t_capture_mode = cudaStreamCaptureModeGlobal;

CUstream_st& stream_of(cudaStream_t s) {
  return s == nullptr ? g_legacy_stream : *s;
}

cudaError_t fail(cudaError_t error) {
  g_last_error = error;
  return error;
}

// A host-synchronising call while a capture is open: CUDA refuses it and breaks the capture.
cudaError_t refuse_during_capture(const char* call) {
  std::fprintf(stderr, "cuda_emu: %s while a stream is capturing (illegal in CUDA)\n", call);
  return fail(cudaErrorStreamCaptureUnsupported);
}

bool any_capture_open() {
  return !g_capturing.empty();
}

// CUDA's rule for "potentially unsafe" calls (cudaMalloc, cudaFree) during capture, by this
// thread's mode: relaxed never refuses; thread-local refuses while this thread has a capture open
// that was not begun relaxed; global also refuses while another thread has a global-mode capture
// open. A refused call invalidates the captures it conflicts with.
cudaError_t refuse_if_unsafe(const char* call) {
  if (t_capture_mode == cudaStreamCaptureModeRelaxed) return cudaSuccess;
  const std::thread::id self = std::this_thread::get_id();
  bool refused = false;
  for (CUstream_st* s : g_capturing) {
    const bool own = s->capture_thread == self && s->capture_mode != cudaStreamCaptureModeRelaxed;
    const bool other_global = s->capture_thread != self &&
                              s->capture_mode == cudaStreamCaptureModeGlobal &&
                              t_capture_mode == cudaStreamCaptureModeGlobal;
    if (own || other_global) {
      s->capture_broken = true;
      refused = true;
    }
  }
  return refused ? refuse_during_capture(call) : cudaSuccess;
}

}  // namespace

void set_last_error(cudaError_t error) {
  std::lock_guard lock(g_mutex);
  g_last_error = error;
}

void enqueue(cudaStream_t stream, std::function<void()> work) {
  std::lock_guard lock(g_mutex);
  CUstream_st& s = stream_of(stream);
  if (s.capturing) {
    s.captured.push_back(std::move(work));
  } else {
    work();
  }
}

bool is_capturing(cudaStream_t stream) {
  std::lock_guard lock(g_mutex);
  return stream_of(stream).capturing;
}

}  // namespace fusenas::emu

using namespace fusenas::emu;

extern "C" {

// CUDA_VISIBLE_DEVICES hides the emulated card as it hides a real one ("" or "-1": none).
cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue);
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  const bool hidden = visible != nullptr && (visible[0] == '\0' || visible[0] == '-');
  *count = hidden ? 0 : 1;
  return hidden ? fail(cudaErrorNoDevice) : cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof(*prop));
  std::snprintf(prop->name, sizeof(prop->name), "FuseNAS CPU emulator (no GPU)");
  prop->totalGlobalMem = kTotalMemory;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->l2CacheSize = 1 << 20;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  std::lock_guard lock(g_mutex);
  if (any_capture_open()) return refuse_during_capture("cudaDeviceSynchronize");
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  std::lock_guard lock(g_mutex);
  const cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) {
  std::lock_guard lock(g_mutex);
  return g_last_error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorIllegalState:
      return "cudaErrorIllegalState";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorIllegalState:
      return "the operation cannot be performed in the present state";
    default:
      return "unknown error";
  }
}

// ---- memory ----

cudaError_t cudaMalloc(void** ptr, size_t size) {
  std::lock_guard lock(g_mutex);
  if (ptr == nullptr) return fail(cudaErrorInvalidValue);
  if (const cudaError_t e = refuse_if_unsafe("cudaMalloc"); e != cudaSuccess) return e;
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  if (size > kTotalMemory - g_allocated) return fail(cudaErrorMemoryAllocation);
  // Exactly `size` bytes, so under ASan the first byte past the end is already out of bounds.
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, size) != 0) return fail(cudaErrorMemoryAllocation);
  // Fresh device memory holds garbage: all-ones bytes read as NaN in floating point.
  std::memset(p, 0xFF, size);
  g_allocations[p] = size;
  g_allocated += size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  std::lock_guard lock(g_mutex);
  if (ptr == nullptr) return cudaSuccess;
  if (const cudaError_t e = refuse_if_unsafe("cudaFree"); e != cudaSuccess) return e;
  auto it = g_allocations.find(ptr);
  if (it == g_allocations.end()) return fail(cudaErrorInvalidValue);
  g_allocated -= it->second;
  g_allocations.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  std::lock_guard lock(g_mutex);
  if (free_bytes == nullptr || total == nullptr) return fail(cudaErrorInvalidValue);
  *free_bytes = kTotalMemory - g_allocated;
  *total = kTotalMemory;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  std::lock_guard lock(g_mutex);
  if (any_capture_open()) return refuse_during_capture("cudaMemcpy");
  if (count && (dst == nullptr || src == nullptr)) return fail(cudaErrorInvalidValue);
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind,
                            cudaStream_t stream) {
  if (count && (dst == nullptr || src == nullptr)) return fail(cudaErrorInvalidValue);
  if (count) enqueue(stream, [=] { std::memmove(dst, src, count); });
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  std::lock_guard lock(g_mutex);
  if (any_capture_open()) return refuse_during_capture("cudaMemset");
  if (count && ptr == nullptr) return fail(cudaErrorInvalidValue);
  if (count) std::memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  if (count && ptr == nullptr) return fail(cudaErrorInvalidValue);
  if (count) enqueue(stream, [=] { std::memset(ptr, value, count); });
  return cudaSuccess;
}

// ---- streams and capture ----

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  if (stream == nullptr) return fail(cudaErrorInvalidValue);
  *stream = new CUstream_st();
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, 0);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard lock(g_mutex);
  if (stream == nullptr) return fail(cudaErrorInvalidResourceHandle);
  if (stream->capturing) {
    std::erase(g_capturing, stream);
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard lock(g_mutex);
  CUstream_st& s = stream_of(stream);
  if (s.capturing) {
    s.capture_broken = true;
    return refuse_during_capture("cudaStreamSynchronize");
  }
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  std::lock_guard lock(g_mutex);
  if (status == nullptr) return fail(cudaErrorInvalidValue);
  const CUstream_st& s = stream_of(stream);
  *status = !s.capturing       ? cudaStreamCaptureStatusNone
            : s.capture_broken ? cudaStreamCaptureStatusInvalidated
                               : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  std::lock_guard lock(g_mutex);
  // The legacy stream cannot be captured.
  if (stream == nullptr) return fail(cudaErrorStreamCaptureUnsupported);
  if (stream->capturing) return fail(cudaErrorIllegalState);
  stream->capturing = true;
  stream->capture_broken = false;
  stream->capture_mode = mode;
  stream->capture_thread = std::this_thread::get_id();
  stream->captured.clear();
  g_capturing.push_back(stream);
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (mode == nullptr) return fail(cudaErrorInvalidValue);
  std::swap(*mode, t_capture_mode);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  std::lock_guard lock(g_mutex);
  if (graph == nullptr) return fail(cudaErrorInvalidValue);
  *graph = nullptr;
  if (stream == nullptr || !stream->capturing) return fail(cudaErrorIllegalState);
  stream->capturing = false;
  std::erase(g_capturing, stream);
  auto work = std::move(stream->captured);
  stream->captured.clear();
  if (stream->capture_broken) return fail(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(work)};
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (exec == nullptr || graph == nullptr) return fail(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->work};
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return fail(cudaErrorInvalidValue);
  for (const auto& work : exec->work) enqueue(stream, work);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

// ---- events ----

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (event == nullptr) return fail(cudaErrorInvalidValue);
  *event = new CUevent_st();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  event->recorded_in_capture = is_capturing(stream);
  enqueue(stream, [event] {
    event->when = std::chrono::steady_clock::now();
    event->recorded = true;
  });
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  std::lock_guard lock(g_mutex);
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  if (event->recorded_in_capture && any_capture_open()) {
    return refuse_during_capture("cudaEventSynchronize");
  }
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr || start == nullptr || end == nullptr) return fail(cudaErrorInvalidValue);
  if (!start->recorded || !end->recorded) return fail(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

}  // extern "C"
