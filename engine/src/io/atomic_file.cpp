// Crash-safe file writes: write to a temporary file, fsync it, then rename over the target.
#include "fusenas/engine/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fusenas/engine/error.h"

namespace fusenas::io {

void write_file_atomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  FUSENAS_CHECK(fd >= 0, "cannot write {}: {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      FUSENAS_FAIL("cannot write {}: {}", tmp, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_err = errno;
  ::close(fd);
  FUSENAS_CHECK(synced, "cannot fsync {}: {}", tmp, std::strerror(sync_err));
  FUSENAS_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename {} to {}: {}", tmp, path,
                std::strerror(errno));
  // Persist the rename itself.
  const auto dir = std::filesystem::path(path).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void check_writable(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  const std::string where = dir.empty() ? "." : dir.string();
  FUSENAS_CHECK(std::filesystem::is_directory(where), "cannot write {}: folder {} does not exist",
                path, where);
  FUSENAS_CHECK(::access(where.c_str(), W_OK) == 0, "cannot write {}: {}: {}", path, where,
                std::strerror(errno));
  FUSENAS_CHECK(!std::filesystem::is_directory(path), "cannot write {}: it is a folder", path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FUSENAS_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  FUSENAS_CHECK(!in.bad(), "error reading {}", path);
  return ss.str();
}

}  // namespace fusenas::io
