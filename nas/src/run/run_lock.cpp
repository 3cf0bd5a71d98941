// An exclusive flock on <run folder>/run.lock for the life of a run.
#include "fusenas/nas/run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "fusenas/engine/error.h"

namespace fusenas::nas {
namespace {

// The pid the holder wrote, for the message; empty when unreadable.
std::string holder_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

RunLock::RunLock(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kFile).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  FUSENAS_CHECK(fd_ >= 0, "cannot lock run folder {}: {}: {}", dir, path, std::strerror(errno));
  // flock, not fcntl locks: they belong to this open file, so they are neither shared with nor
  // dropped by other descriptors of the same file in this process, and they end with the process
  // even on kill -9.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string pid = holder_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    FUSENAS_CHECK(err != EWOULDBLOCK,
                  "run folder {} is in use by {} (one run at a time per folder)", dir,
                  pid.empty() ? std::string("another process") : "pid " + pid);
    FUSENAS_FAIL("cannot lock run folder {}: {}", dir, std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only the message for a second process loses it.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace fusenas::nas
