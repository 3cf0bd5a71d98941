// What every FuseNAS command-line app does the same way: one-line error messages, passive
// OpenMP waiting, heap retention, and the exit status of a run stopped by a signal.
#pragma once

#include <string>

namespace fusenas::apps {

constexpr int kStoppedExit = 130;  // stopped by SIGINT/SIGTERM; the run can be resumed

// Library messages end in "[nas/src/x.cpp:12]" for developers; users get the sentence alone, on
// one line.
std::string one_line(const std::string& message);

// Call first in main(). libgomp reads its wait policy once, when it is loaded. By default its
// threads spin for about 300,000 iterations at every barrier: with more runnable threads than
// cores (a machine shared with other jobs) a spinning thread holds the core its partner needs,
// and training ran 7x slower (28 vs 213 img/s, 2 threads on 2 busy cores). Fully passive waiting
// puts every thread to sleep at each of the thousands of small parallel regions of a step, and
// the wake-ups cost as much again: a quick-preset DARTS step took 0.90 s passive, 0.54 s with a
// bounded spin of 30,000 iterations, and 2.25 s vs 1.08 s with two other busy processes
// (docs/results.md). So unless the user chose a policy, the process restarts itself once with
// GOMP_SPINCOUNT=30000. It also keeps freed memory in the heap: every step frees and reallocates
// the same activation sizes, and returning them to the kernel makes it fault in and zero fresh
// pages each step.
// The restart also sets kSpinMarker, so children that should keep their own defaults (the
// PyTorch peers of bench) can be started without it.
void tune_process(char** argv);
inline constexpr const char* kSpinMarker = "FUSENAS_SET_GOMP_SPINCOUNT";

}  // namespace fusenas::apps
