// Label and index checks of CUDA ops that never make the host wait. Each check is one kernel that
// writes the first bad entry into the device's error record; the record is read back only where
// the host waits for the device anyway (copies to the host, synchronize(), and so the deferred
// step statistics), and the first recorded error is thrown there, named by the op that found it.
// Until then the op's kernels give NaN for bad entries. Checks captured into a CUDA graph keep
// their description, so a replay's bad label is reported at the next read too.
#pragma once

#include <functional>
#include <string>

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {

// The op's message for a bad entry at flat `position` holding `value`.
using IndexErrorMessage = std::function<std::string(int64_t position, int64_t value)>;

// Queues the check of contiguous int64 `indices` (on a CUDA device) against [0, limit).
void check_indices(const Tensor& indices, int64_t limit, IndexErrorMessage message);

// Throws the first error recorded on `device` since the last drain, and clears it. Reads the
// record (one blocking copy) only when checks ran since; call it where the stream has drained.
void drain_index_errors(int device);

}  // namespace fusenas::cuda
