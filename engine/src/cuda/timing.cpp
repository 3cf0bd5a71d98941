// Timing aids for benchmarks: CUDA events on the engine stream and a device busy-wait.
#include "fusenas/kernels/timing.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "fusenas/engine/cuda.h"

namespace fusenas::cuda {

struct Event::State {
  int device = 0;
  cudaEvent_t event = nullptr;
  bool recorded = false;
};

Event::Event(int device) : state_(std::make_unique<State>()) {
  state_->device = device;
  context(device);  // makes the device current and checks that it exists
  FUSENAS_CUDA_CHECK(cudaEventCreate(&state_->event));
}

Event::~Event() {
  if (state_->event) cudaEventDestroy(state_->event);
}

void Event::record() {
  FUSENAS_CUDA_CHECK(cudaEventRecord(state_->event, context(state_->device).stream));
  state_->recorded = true;
}

void Event::synchronize() {
  FUSENAS_CHECK(state_->recorded, "cuda::Event: synchronize before record");
  note_host_sync();
  FUSENAS_CUDA_CHECK(cudaEventSynchronize(state_->event));
}

double Event::elapsed_ms(const Event& start, const Event& end) {
  FUSENAS_CHECK(start.state_->recorded && end.state_->recorded,
                "cuda::Event::elapsed_ms: both events must be recorded");
  note_host_sync();
  FUSENAS_CUDA_CHECK(cudaEventSynchronize(end.state_->event));
  float ms = 0;
  FUSENAS_CUDA_CHECK(cudaEventElapsedTime(&ms, start.state_->event, end.state_->event));
  return ms;
}

void busy_wait(double microseconds, int device) {
  // Not counted as a launch: it is the benchmark's scaffolding, not engine work.
  FUSENAS_CUDA_CHECK(
      kernels::spin(static_cast<int64_t>(microseconds * 1e3), context(device).stream));
}

}  // namespace fusenas::cuda
