// Turns SIGINT/SIGTERM into a flag the training loops poll, so they can checkpoint and exit
// cleanly; a second signal ends the process at once.
#pragma once

namespace fusenas::nas {

class StopSignal {
 public:
  StopSignal();   // installs the handlers
  ~StopSignal();  // restores the previous ones
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool requested() const;
  int signal_number() const;
  // For tests: behave as if a signal had arrived.
  static void raise_for_test();
};

}  // namespace fusenas::nas
