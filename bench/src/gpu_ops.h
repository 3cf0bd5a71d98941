// The GPU op suite of `bench`: DARTS-shape kernels validated against the CPU, timed with CUDA
// events on rotating inputs, rated against measured bandwidth and SGEMM ceilings, beside PyTorch.
#pragma once

#include <string>

namespace fusenas::bench {

struct GpuSuiteOptions {
  std::string filter;     // regex on case names; empty = all
  std::string json_path;  // also write the results here when set
  bool peers = true;      // run the PyTorch peer (bench/peers/gpu_ops.py)
  bool quick = false;     // a handful of cases
  int warmup = 5;
  int iterations = 30;
  double tolerance = 1e-4;  // max relative error against the CPU reference
};

// Runs the suite on CUDA device 0 and prints the table. Returns the process exit code: 0 when every
// case matched the CPU, 1 when one did not (its timing is left out).
int run_gpu_op_suite(const GpuSuiteOptions& options);

}  // namespace fusenas::bench
