// Turns SIGINT/SIGTERM into a flag the training loops poll, so they can checkpoint and exit
// cleanly; a second signal ends the process at once.
#pragma once

namespace fusenas::nas {

class StopSignal {
 public:
  // The outermost live StopSignal installs the handlers (clearing the flag) and restores the
  // previous ones when it goes; nested ones share its flag.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool requested() const;
  int signal_number() const;
  // For tests: behave as if a signal had arrived.
  static void raise_for_test();
};

}  // namespace fusenas::nas
