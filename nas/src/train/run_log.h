// The human log of a run: timestamped lines appended to train.log and echoed to stdout.
#pragma once

#include <string>

#include "fusenas/nas/run/run_dir.h"

namespace fusenas::nas {

class RunLog {
 public:
  RunLog(const RunDir& run, bool echo) : run_(run), echo_(echo) {}
  void line(const std::string& text) const;

 private:
  const RunDir& run_;
  bool echo_;
};

}  // namespace fusenas::nas
