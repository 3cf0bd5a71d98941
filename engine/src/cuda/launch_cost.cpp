// The launch log (FUSENAS_LAUNCH_LOG) and the running totals of launch costs behind
// cuda::launch_totals().
#include "cuda/launch_cost.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/error.h"

namespace fusenas::cuda {
namespace {

// One lock for the totals and the log, so a line and its totals are never torn between threads.
struct LaunchRecord {
  std::mutex mutex;
  LaunchTotals totals;
  std::FILE* log = nullptr;
  bool env_read = false;  // FUSENAS_LAUNCH_LOG is read once, at the first launch or set call

  ~LaunchRecord() {
    if (log != nullptr) std::fclose(log);
  }
};

LaunchRecord& record() {
  static LaunchRecord r;
  return r;
}

// Replaces the open log (if any) by `path`; empty closes it. Called with the lock held.
void open_log(LaunchRecord& r, const std::string& path) {
  r.env_read = true;
  if (r.log != nullptr) {
    std::fclose(r.log);
    r.log = nullptr;
  }
  if (path.empty()) return;
  r.log = std::fopen(path.c_str(), "w");
  FUSENAS_CHECK(r.log != nullptr, "launch log: cannot open '{}' for writing", path);
}

}  // namespace

void record_launch_cost(const char* what, LaunchCost cost, bool captured) {
  LaunchRecord& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.env_read) {
    const char* path = std::getenv("FUSENAS_LAUNCH_LOG");
    open_log(r, path != nullptr ? path : "");
  }
  const double bytes = static_cast<double>(cost.bytes), flops = static_cast<double>(cost.flops);
  ++r.totals.launches;
  r.totals.bytes += bytes;
  r.totals.flops += flops;
  r.totals.device_seconds += h100_model::device_seconds(bytes, flops);
  if (r.log != nullptr) {
    // Launch names are string literals of the engine's launchers: no quotes or escapes in them.
    std::fprintf(r.log, "{\"name\":\"%s\",\"bytes\":%lld,\"flops\":%lld,\"captured\":%s}\n", what,
                 static_cast<long long>(cost.bytes), static_cast<long long>(cost.flops),
                 captured ? "true" : "false");
  }
}

LaunchTotals launch_totals() {
  LaunchRecord& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.totals;
}

void reset_launch_totals() {
  LaunchRecord& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.totals = {};
}

void set_launch_log(const std::string& path) {
  LaunchRecord& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  open_log(r, path);
}

}  // namespace fusenas::cuda
