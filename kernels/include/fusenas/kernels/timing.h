// Raw timing aid: a kernel that spins on the device clock, so benchmarks can keep a stream busy
// while the host queues the work to be timed.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// One thread spins for about `nanoseconds` of wall time (the global timer), then exits.
cudaError_t spin(int64_t nanoseconds, cudaStream_t stream);

}  // namespace fusenas::kernels
