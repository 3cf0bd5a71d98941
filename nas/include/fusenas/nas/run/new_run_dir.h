// The folder of a run being started: claimed so that no other run can share it, locked for the
// run's life, and removed again when the start fails, so a folder is either a run or absent.
#pragma once

#include <memory>
#include <string>

#include "fusenas/nas/run/run_lock.h"

namespace fusenas::nas {

class NewRunDir {
 public:
  // `out_dir`, or runs/<kind>-<time> when empty (with -2, -3, ... appended when that name is
  // taken, so runs started in the same second get their own folders). A given folder may exist
  // when it is empty. Throws naming the folder when it holds a run (or anything else), or when
  // another process holds it.
  NewRunDir(const std::string& out_dir, const std::string& kind);

  const std::string& path() const { return path_; }
  // After a start that failed before its first checkpoint: removes what the run wrote (the
  // folder itself when this run created it) and releases the lock. Never throws.
  void discard() noexcept;

 private:
  std::string path_;
  bool created_ = false;
  std::unique_ptr<RunLock> lock_;
};

}  // namespace fusenas::nas
