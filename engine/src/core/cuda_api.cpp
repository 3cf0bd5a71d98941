// The public CUDA controls in a build without CUDA: queries answer "no device" (and no launches),
// everything else throws a clear error.
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
void set_memory_caching(bool) {
  no_cuda();
}
bool memory_caching() {
  return false;
}
void set_allow_tf32(bool) {
  no_cuda();
}
bool allow_tf32() {
  return false;
}

int64_t launch_count() {
  return 0;
}
void reset_launch_count() {}
LaunchTotals launch_totals() {
  return {};
}
void reset_launch_totals() {}
void set_launch_log(const std::string&) {}
int64_t host_sync_count() {
  return 0;
}

struct Event::State {};
Event::Event(int) {
  no_cuda();
}
Event::~Event() = default;
void Event::record() {
  no_cuda();
}
void Event::synchronize() {
  no_cuda();
}
double Event::elapsed_ms(const Event&, const Event&) {
  no_cuda();
}
void busy_wait(double, int) {
  no_cuda();
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
