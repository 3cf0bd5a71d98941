// Public CUDA controls: device queries, allocator statistics, TF32, synchronisation and CUDA-graph
// capture of a whole training step. Every function throws fusenas::Error in a build without CUDA.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace fusenas::cuda {

int device_count();

struct DeviceProperties {
  int index = 0;
  char name[256] = {};
  int major = 0, minor = 0;
  int multiprocessors = 0;
  int64_t total_memory = 0;
};
DeviceProperties device_properties(int device = 0);

struct MemoryStats {
  int64_t current_bytes = 0;  // handed out to tensors now
  int64_t peak_bytes = 0;     // maximum of current_bytes since the last reset
  int64_t cached_bytes = 0;   // held by the cache, free for reuse
  int64_t malloc_calls = 0;   // cudaMalloc calls so far
};
MemoryStats memory_stats(int device = 0);
void reset_peak_memory(int device = 0);
// Returns cached blocks to the driver.
void empty_cache(int device = 0);

// Debug aid for tests: fill every new allocation with NaN bytes so unwritten outputs show up.
void set_poison_allocations(bool poison);

// Waits for the engine stream of `device`.
void synchronize(int device = 0);

// TF32 tensor-core math for cuBLAS/cuDNN. Off by default so CUDA matches the CPU to fp32 tolerance.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Captures a step (forward, backward, optimizer) into a CUDA graph and replays it. The step must
// read its inputs from tensors that live across replays (copy each new batch into them first),
// must not synchronise with the host, and must write results it wants to keep into such tensors.
// Memory the step allocates comes from a pool private to the graph, so replays never race with
// other work. Random draws made on the host during capture are baked into the graph.
class Graph {
 public:
  explicit Graph(int device = 0);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Runs `step` once eagerly to warm caches, then captures one more call of it.
  void capture(const std::function<void()>& step, int warmup_runs = 1);
  void replay();
  bool captured() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fusenas::cuda
