// The DARTS search-step suite of `bench`: one full step (architect + weights) of the supernet at a
// fixed shape, timed beside an independent PyTorch supernet of the same shape
// (peers/darts_step.py).
#pragma once

#include "fusenas/engine/device.h"
#include "harness.h"

namespace fusenas::bench {

// CPU: the quick preset's shape (1x28x28, batch 32, C=8, 5 cells). CUDA: the DARTS CIFAR shape
// (3x32x32, batch 64, C=16, 8 cells). First and second order. Prints median step time, peak
// device memory and kernel launches per step for both sides, and the ratio.
// `filter`: a regex on case names (empty = all).
// `quick`: a tiny supernet (batch 4, 8x8 RGB, C=8, 5 cells), a smoke test of the code path.
// `cells`: "fused", "composed" or "both" (each case is timed once per implementation asked).
int run_darts_suite(Device device, int threads, const Options& options, bool peers, bool quick,
                    const std::string& json_path, const std::string& filter,
                    const std::string& cells = "both");

}  // namespace fusenas::bench
