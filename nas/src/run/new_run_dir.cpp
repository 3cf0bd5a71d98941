// Claiming, locking and (after a failed start) removing a new run's folder.
#include "fusenas/nas/run/new_run_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/setup.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;

// mkdir of the last component only: it fails with EEXIST when the name is taken, which makes the
// claim atomic between processes.
bool make_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0755) == 0) return true;
  const int err = errno;
  FUSENAS_CHECK(err == EEXIST, "cannot create run folder {}: {}", p.string(), std::strerror(err));
  return false;
}

void make_parents(const fs::path& p) {
  if (!p.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  FUSENAS_CHECK(!ec, "cannot create {}: {}", p.parent_path().string(), ec.message());
}

// Throws unless `dir` holds nothing but (perhaps) a lock file.
void check_holds_no_run(const std::string& dir) {
  FUSENAS_CHECK(fs::is_directory(dir), "run folder {} exists and is not a folder", dir);
  FUSENAS_CHECK(!CheckpointReader::exists(dir),
                "run folder {} already holds a run (continue it with --resume {} or choose another "
                "--out)",
                dir, dir);
  FUSENAS_CHECK(!fs::exists(fs::path(dir) / "config.json"),
                "run folder {} holds a run that failed before its first checkpoint (config.json "
                "but no checkpoint): remove it or choose another --out",
                dir);
  for (const auto& entry : fs::directory_iterator(dir)) {
    FUSENAS_CHECK(entry.path().filename() == RunLock::kFile,
                  "run folder {} is not empty (it holds {}): choose another --out", dir,
                  entry.path().filename().string());
  }
}

}  // namespace

NewRunDir::NewRunDir(const std::string& out_dir, const std::string& kind) {
  if (out_dir.empty()) {
    const std::string base = default_run_dir(kind);
    make_parents(base);
    for (int n = 1; !created_; ++n) {
      FUSENAS_CHECK(n <= 1000, "cannot find a free run folder name {}-N", base);
      path_ = n == 1 ? base : base + "-" + std::to_string(n);
      created_ = make_dir(path_);
    }
  } else {
    path_ = out_dir;
    make_parents(fs::path(path_));
    created_ = make_dir(path_);
    if (!created_) check_holds_no_run(path_);
  }
  try {
    lock_ = std::make_unique<RunLock>(path_);
    // Again under the lock: another process may have claimed the same --out in between.
    if (!created_) check_holds_no_run(path_);
  } catch (...) {
    lock_.reset();
    std::error_code ignored;
    if (created_) fs::remove(path_, ignored);  // only when still empty
    throw;
  }
}

void NewRunDir::discard() noexcept {
  std::error_code ignored;
  if (created_) {
    fs::remove_all(path_, ignored);
  } else {
    // The folder was empty when this run took it: everything in it is this run's.
    for (const auto& entry : fs::directory_iterator(path_, ignored))
      fs::remove_all(entry.path(), ignored);
  }
  lock_.reset();
}

}  // namespace fusenas::nas
