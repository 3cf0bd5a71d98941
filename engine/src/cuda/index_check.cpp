// Deferred label and index checks: the host keeps each check's message by id until a drain reads
// the device's error record.
#include "cuda/index_check.h"

#include <array>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include "cuda/check.h"
#include "cuda/context.h"
#include "fusenas/engine/cuda.h"
#include "fusenas/kernels/index_check.h"

namespace fusenas::cuda {
namespace {

// Unread eager checks before a check drains on its own: bounds the messages kept by a program
// that never reads anything back, at one host wait per this many checks.
constexpr size_t kMaxPending = 1024;

struct DeviceChecks {
  long long next_id = 1;
  std::map<long long, IndexErrorMessage> messages;  // by check id, since the last drain
  std::set<long long> captured;                     // ids inside graphs: kept for every replay
};

std::mutex g_mutex;
std::array<DeviceChecks, kMaxDevices> g_devices;

bool capturing(const DeviceContext& ctx) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  FUSENAS_CUDA_CHECK(cudaStreamIsCapturing(ctx.stream, &status));
  return status != cudaStreamCaptureStatusNone;
}

}  // namespace

void check_indices(const Tensor& indices, int64_t limit, IndexErrorMessage message) {
  DeviceContext& ctx = context_for(indices);
  const bool in_graph = capturing(ctx);
  long long id = 0;
  size_t eager = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceChecks& d = g_devices[ctx.device];
    id = d.next_id++;
    d.messages.emplace(id, std::move(message));
    if (in_graph) d.captured.insert(id);
    eager = d.messages.size() - d.captured.size();
  }
  FUSENAS_LAUNCH(kernels::record_first_out_of_range(indices.numel(), indices.data<int64_t>(), limit,
                                                    id, ctx.index_errors, ctx.stream),
                 // Reads every index once; compares only (counted as one operation each).
                 "record_first_out_of_range", LaunchCost(bytes_of(indices), indices.numel()));
  if (!in_graph && eager > kMaxPending) synchronize(ctx.device);  // drains
}

void drain_index_errors(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceChecks& d = g_devices[device];
  if (d.messages.empty()) return;
  DeviceContext& ctx = context(device);
  kernels::IndexErrorRecord record;
  note_host_sync();
  FUSENAS_CUDA_CHECK(cudaMemcpyAsync(&record, ctx.index_errors, sizeof(record),
                                     cudaMemcpyDeviceToHost, ctx.stream));
  FUSENAS_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  std::string message;
  if (record.check != 0) {
    FUSENAS_CUDA_CHECK(cudaMemsetAsync(ctx.index_errors, 0, sizeof(record), ctx.stream));
    const auto it = d.messages.find(record.check);
    message = it != d.messages.end()
                  ? it->second(record.position, record.value)
                  : fmt::format("a CUDA index check found {} at position {} out of range",
                                record.value, record.position);
  }
  // Every check queued so far has run; only those inside graphs can report again.
  std::erase_if(d.messages, [&](const auto& entry) { return !d.captured.contains(entry.first); });
  FUSENAS_CHECK(message.empty(), "{}", message);
}

}  // namespace fusenas::cuda
