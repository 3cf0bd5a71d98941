// A progress bar on stderr with throughput and ETA; on a non-terminal it prints a line every
// 10% instead of redrawing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fusenas::nas {

class Progress {
 public:
  // `unit` names what is counted for the throughput, e.g. "img".
  Progress(std::string label, int64_t total, std::string unit);
  // `done` steps finished, `items` units processed so far, `note` e.g. "loss 0.41 acc 87.2%".
  void update(int64_t done, int64_t items, const std::string& note);
  // Whether update(done, ...) would draw now: callers skip preparing a note that costs something
  // (reading values back from the GPU) when it would not be shown.
  bool due(int64_t done) const;
  // Clears the bar (on a terminal) so the caller's log line starts clean.
  void finish();

 private:
  std::string label_, unit_;
  int64_t total_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);

}  // namespace fusenas::nas
