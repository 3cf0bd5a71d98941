// The human log of a run: timestamped lines appended to a log file in the run folder and echoed
// to stdout.
#pragma once

#include <string>
#include <utility>

#include "fusenas/nas/run/run_dir.h"

namespace fusenas::nas {

// The log file of a run kind: train.log for "train", search.log for the searches.
std::string run_log_file(const std::string& kind);

class RunLog {
 public:
  RunLog(const RunDir& run, bool echo, std::string file = "train.log")
      : run_(run), echo_(echo), file_(std::move(file)) {}
  void line(const std::string& text) const;

 private:
  const RunDir& run_;
  bool echo_;
  std::string file_;
};

}  // namespace fusenas::nas
