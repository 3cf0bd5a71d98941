// Op benchmark cases at DARTS shapes, shared by the CPU and GPU suites and by the PyTorch peer.
#pragma once

#include <vector>

#include "fusenas/engine/device.h"
#include "harness.h"

namespace fusenas::bench {

// Each case times one op (forward, or forward + backward) on `device`.
std::vector<BenchCase> op_cases(Device device, bool quick);

}  // namespace fusenas::bench
