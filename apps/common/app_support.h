// What every FuseNAS command-line app does the same way: one-line error messages, passive
// OpenMP waiting, heap retention, and the exit status of a run stopped by a signal.
#pragma once

#include <string>

namespace fusenas::apps {

constexpr int kStoppedExit = 130;  // stopped by SIGINT/SIGTERM; the run can be resumed

// Library messages end in "[nas/src/x.cpp:12]" for developers; users get the sentence alone, on
// one line.
std::string one_line(const std::string& message);

// How OpenMP threads wait at barriers when the user has not chosen (OMP_WAIT_POLICY or
// GOMP_SPINCOUNT unset).
enum class OmpWaiting {
  // Apps: threads sleep at once. Other jobs on the same cores then get them. Two quick DARTS
  // searches side by side each took 1.8x their time alone (3.0x with the bounded spin), two
  // nas_train runs 1.4x (5.6x), at no measurable cost alone (docs/results.md, 2026-12-07).
  kPassive,
  // bench: a bounded spin (GOMP_SPINCOUNT=30000), the fastest on idle cores for the composed
  // cells' thousands of small parallel regions, which bench still times.
  kBoundedSpin,
};

// Call first in main(). libgomp reads its wait policy once, when it is loaded, so the process
// restarts itself once with the policy set. It also keeps freed memory in the heap: every step
// frees and reallocates the same activation sizes, and returning them to the kernel makes it fault
// in and zero fresh pages each step.
// The restart also sets kWaitMarker, so children that should keep their own defaults (the
// PyTorch peers of bench) can be started without it.
void tune_process(char** argv, OmpWaiting waiting = OmpWaiting::kPassive);
inline constexpr const char* kWaitMarker = "FUSENAS_SET_OMP_WAITING";

}  // namespace fusenas::apps
