// The public CUDA controls in a build without CUDA: queries answer "no device", everything else
// throws a clear error.
#ifndef FUSENAS_WITH_CUDA
#include "fusenas/engine/cuda.h"
#include "fusenas/engine/error.h"

namespace fusenas::cuda {
namespace {
[[noreturn]] void no_cuda() {
  FUSENAS_FAIL("this build of FuseNAS has no CUDA backend");
}
}  // namespace

int device_count() {
  return 0;
}
DeviceProperties device_properties(int) {
  no_cuda();
}
MemoryStats memory_stats(int) {
  no_cuda();
}
void reset_peak_memory(int) {
  no_cuda();
}
void empty_cache(int) {
  no_cuda();
}
void synchronize(int) {
  no_cuda();
}
void set_poison_allocations(bool) {
  no_cuda();
}
void set_allow_tf32(bool) {
  no_cuda();
}
bool allow_tf32() {
  return false;
}

struct Graph::State {};
Graph::Graph(int) {
  no_cuda();
}
Graph::~Graph() = default;
void Graph::capture(const std::function<void()>&, int) {
  no_cuda();
}
void Graph::replay() {
  no_cuda();
}
bool Graph::captured() const {
  return false;
}

}  // namespace fusenas::cuda
#endif
