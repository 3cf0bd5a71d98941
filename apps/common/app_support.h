// What every FuseNAS command-line app does the same way: one-line error messages, passive
// OpenMP waiting, heap retention, and the exit status of a run stopped by a signal.
#pragma once

#include <string>

namespace fusenas::apps {

constexpr int kStoppedExit = 130;  // stopped by SIGINT/SIGTERM; the run can be resumed

// Library messages end in "[nas/src/x.cpp:12]" for developers; users get the sentence alone, on
// one line.
std::string one_line(const std::string& message);

// Call first in main(). libgomp reads OMP_WAIT_POLICY once, when it is loaded, and by default
// its threads spin at every barrier. With more runnable threads than cores (a machine shared with
// other jobs) a spinning thread holds the core its partner needs: training ran 7x slower (28 vs
// 213 img/s, 2 threads on 2 busy cores). So unless the user chose a policy, the process restarts
// itself once with passive waiting. It also keeps freed memory in the heap: every step frees and
// reallocates the same activation sizes, and returning them to the kernel makes it fault in and
// zero fresh pages each step.
void tune_process(char** argv);

}  // namespace fusenas::apps
