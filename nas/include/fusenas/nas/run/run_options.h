// Per-invocation settings of a run (training or search) that do not change its result on the CPU
// and are not saved with it.
#pragma once

#include <cstdint>
#include <string>

namespace fusenas::nas {

struct RunOptions {
  std::string device = "auto";  // "cpu", "cuda", "cuda:N" or "auto" (CUDA when available)
  int threads = 0;              // CPU threads for the engine; 0 = all cores
  std::string out_dir;          // run folder; empty = runs/<kind>-<timestamp>
  bool progress = true;         // progress bar on stderr
  // The app, its version, the host and CPU, and the command line, written as a line of the run's
  // log at every start and resume (what a report shows as the run's origin); empty: not written.
  std::string invocation;
  bool echo = true;  // log lines on stdout as well as in the run's log file
  // Search cells op by op (the composed MixedOps) instead of the fused darts_cell op: a check of
  // the fused path, same results up to rounding, slower.
  bool composed_cells = false;
  // On CUDA, run every step eagerly instead of replaying it from a captured CUDA graph (DARTS
  // search steps; the others always run eagerly).
  bool eager = false;
  // Test hook: behave as if SIGTERM arrived once this many steps (optimizer steps; for ENAS
  // shared-weight minibatches plus controller steps), counted from the start of the run across
  // resumes, are done; 0 = off.
  int64_t stop_after_steps = 0;
};

}  // namespace fusenas::nas
