// An exclusive lock on a run folder, held for a whole run, so that two processes never write one
// folder (two --resume of it, or two runs given the same --out).
#pragma once

#include <string>

namespace fusenas::nas {

class RunLock {
 public:
  // flock()s <dir>/run.lock (created when missing) and writes this process's pid into it. Throws
  // "run folder <dir> is in use by pid N" when another process holds it.
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static constexpr const char* kFile = "run.lock";

 private:
  int fd_ = -1;
};

}  // namespace fusenas::nas
