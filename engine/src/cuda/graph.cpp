// cuda::Graph: capture a training step on the engine stream into a CUDA graph and replay it.
#include <cuda_runtime.h>

#include "cuda/allocator.h"
#include "cuda/check.h"
#include "cuda/context.h"

namespace fusenas::cuda {

struct Graph::State {
  int device = 0;
  std::shared_ptr<PrivatePool> pool;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

Graph::Graph(int device) : state_(std::make_unique<State>()) {
  state_->device = device;
}

Graph::~Graph() {
  if (state_->exec) cudaGraphExecDestroy(state_->exec);
  if (state_->graph) cudaGraphDestroy(state_->graph);
}

void Graph::capture(const std::function<void()>& step, int warmup_runs) {
  FUSENAS_CHECK(!captured(), "cuda::Graph: already captured");
  DeviceContext& ctx = context(state_->device);
  state_->pool = make_private_pool(state_->device);
  // Warm-up runs fill the private pool and let cuBLAS/cuDNN pick algorithms outside capture.
  begin_private_pool(state_->device, state_->pool);
  try {
    for (int i = 0; i < warmup_runs; ++i) step();
    synchronize(state_->device);
    FUSENAS_CUDA_CHECK(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal));
    set_capture_active(true);
    try {
      step();
    } catch (...) {
      set_capture_active(false);
      cudaGraph_t broken = nullptr;
      // Ending an invalidated capture fails and records that failure in the last-error slot:
      // clear it, or the next launch anywhere would report it as its own.
      if (cudaStreamEndCapture(ctx.stream, &broken) != cudaSuccess) cudaGetLastError();
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    set_capture_active(false);
    FUSENAS_CUDA_CHECK(cudaStreamEndCapture(ctx.stream, &state_->graph));
  } catch (...) {
    end_private_pool(state_->device);
    throw;
  }
  end_private_pool(state_->device);
  FUSENAS_CUDA_CHECK(cudaGraphInstantiate(&state_->exec, state_->graph, 0));
}

void Graph::replay() {
  FUSENAS_CHECK(captured(), "cuda::Graph: replay before capture");
  FUSENAS_CUDA_CHECK(cudaGraphLaunch(state_->exec, context(state_->device).stream));
}

bool Graph::captured() const {
  return state_->exec != nullptr;
}

}  // namespace fusenas::cuda
