// The emulator's stream model: work runs on the host at once, or is recorded into the graph that
// its stream is capturing. Device memory is host memory, so work may touch any pointer directly.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>

namespace fusenas::emu {

// Runs `work` now, or appends it to the graph being captured on `stream` (replayed at launch).
void enqueue(cudaStream_t stream, std::function<void()> work);

// Whether `stream` is capturing: calls that synchronise the host are illegal then.
bool is_capturing(cudaStream_t stream);

}  // namespace fusenas::emu
