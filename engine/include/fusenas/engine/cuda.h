// Public CUDA controls: device queries, allocator statistics, TF32, synchronisation, timing aids
// for benchmarks and CUDA-graph capture of a whole training step. Every function throws
// fusenas::Error in a build without CUDA (launch_count, launch_totals and host_sync_count answer
// 0).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace fusenas::cuda {

int device_count();

struct DeviceProperties {
  int index = 0;
  char name[256] = {};
  int major = 0, minor = 0;
  int multiprocessors = 0;
  int64_t total_memory = 0;
  int64_t l2_cache_bytes = 0;
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
// Debug aid for memory checkers: with caching off, each tensor has its own exact-size cudaMalloc
// (outside graph capture), so a read past its end is out of bounds. FUSENAS_CUDA_NO_CACHING=1
// turns caching off from the start.
void set_memory_caching(bool caching);
bool memory_caching();

// Waits for the engine stream of `device`. Then throws the first bad label or index a CUDA op
// (cross_entropy, embedding) recorded since the last such read: those checks run on the device
// and are read back only where the host waits anyway, here and in copies to the host (to(),
// item()), so a step never waits for them; until read, a bad entry gives NaN.
void synchronize(int device = 0);

// TF32 tensor-core math for cuBLAS/cuDNN. Off by default so CUDA matches the CPU to fp32 tolerance.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Kernel-launch counter for benchmarks and launch-overhead studies. It counts engine launch
// sites: one per raw-kernel launcher call (one launcher may start a few kernels, e.g. batch norm's
// reduce, finalise and normalise) and one per cuBLAS or cuDNN call (the library may launch more).
// Process-wide, all devices and threads together.
int64_t launch_count();
void reset_launch_count();

// A modelled H100 time for launches: a model, not a measurement. Each launch site states the
// global-memory bytes its kernel must move at least and its floating-point operations (a
// multiply-add counts 2); a launch then takes max(bytes / bandwidth, flops / throughput) plus a
// fixed cost per launch (eager) or per graph node (replayed graph). The constants are issue 11's.
namespace h100_model {
// H100 SXM5 HBM3 peak bandwidth (NVIDIA's H100 datasheet: 3.35 TB/s).
inline constexpr double kBytesPerSecond = 3.35e12;
// Dense arithmetic without tensor cores, as issue 11 states it (about the datasheet's 67 TFLOP/s
// FP32, rounded down): the engine's kernels and its TF32-off cuBLAS/cuDNN calls run on CUDA cores.
inline constexpr double kFlopsPerSecond = 60e12;
// Host cost of one eager launch, and of one node of a replayed CUDA graph (issue 11's figures).
inline constexpr double kEagerLaunchSeconds = 2e-6;
inline constexpr double kGraphNodeSeconds = 0.5e-6;
// Device time of one launch: bound by memory or by arithmetic, whichever is slower.
inline double device_seconds(double bytes, double flops) {
  const double memory = bytes / kBytesPerSecond, math = flops / kFlopsPerSecond;
  return memory > math ? memory : math;
}
}  // namespace h100_model

// Running totals over launches since the last reset_launch_totals(), process-wide like
// launch_count(): the launches, their bytes and FLOPs, and the modelled device time summed per
// launch (the max is taken launch by launch, so it is not device_seconds(bytes, flops)).
struct LaunchTotals {
  int64_t launches = 0;
  double bytes = 0, flops = 0;
  double device_seconds = 0;
  // Modelled milliseconds of these launches run eagerly, or replayed as one CUDA graph.
  double eager_ms() const {
    return 1e3 * (device_seconds + launches * h100_model::kEagerLaunchSeconds);
  }
  double graph_ms() const {
    return 1e3 * (device_seconds + launches * h100_model::kGraphNodeSeconds);
  }
};
LaunchTotals launch_totals();
void reset_launch_totals();

// The launch log: one JSON line per launch, {"name":...,"bytes":...,"flops":...,"captured":...}
// (captured: made while a CUDA graph was being captured), written to `path` (truncated first).
// FUSENAS_LAUNCH_LOG=<path> opens it at the first launch; an empty path closes it (and flushes).
// A build without CUDA makes no launches and ignores this.
void set_launch_log(const std::string& path);

// Times the engine made the host wait for a device (stream synchronisation, a copy to or from the
// host, synchronize()), process-wide. A training step should add none: its statistics stay on the
// device until they are read (nas::DeferredStepStats), and so do the label and index checks.
int64_t host_sync_count();

// A CUDA event on the engine stream of `device`, for timing device work without host overhead.
class Event {
 public:
  explicit Event(int device = 0);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Records the event at the current end of the engine stream.
  void record();
  // Waits on the host until the recorded work is done.
  void synchronize();
  // Milliseconds of device time between two recorded events; waits for `end`.
  static double elapsed_ms(const Event& start, const Event& end);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Enqueues a kernel that keeps the engine stream busy for about `microseconds`. Put before a timed
// region it lets the host queue the region's launches ahead, so events then measure device time
// rather than launch overhead.
void busy_wait(double microseconds, int device = 0);

// Captures a step (forward, backward, optimizer) into a CUDA graph and replays it. The step must
// read its inputs from tensors that live across replays (copy each new batch into them first),
// must not synchronise with the host, and must write results it wants to keep into such tensors.
// Memory the step allocates comes from a pool private to the graph, so replays never race with
// other work. Random draws made on the host during capture are baked into the graph, and so are
// other per-step host scalars: SGD's first-step flag, and the learning rate and Adam's bias
// corrections unless the optimizer keeps them on the device (Optimizer::keep_scalars_on_device),
// stay those of the captured call on every replay.
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
