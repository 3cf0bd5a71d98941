// A run folder: config.json, metrics.jsonl and friends.
#include "fusenas/nas/run/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"

namespace fusenas::nas {

RunDir::RunDir(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  FUSENAS_CHECK(!ec && std::filesystem::is_directory(path_), "cannot create run folder {}: {}",
                path_, ec ? ec.message() : "not a directory");
}

std::string RunDir::file(const std::string& name) const {
  return (std::filesystem::path(path_) / name).string();
}

void RunDir::write_text(const std::string& name, const std::string& text) const {
  io::write_file_atomic(file(name), text);
}

void RunDir::write_json(const std::string& name, const nlohmann::json& j) const {
  write_text(name, j.dump(2) + "\n");
}

void RunDir::append_jsonl(const std::string& name, const nlohmann::json& j) const {
  const std::string line = j.dump() + "\n";
  const int fd = ::open(file(name).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  FUSENAS_CHECK(fd >= 0, "cannot append to {}: {}", file(name), std::strerror(errno));
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::fsync(fd);
  ::close(fd);
  FUSENAS_CHECK(n == static_cast<ssize_t>(line.size()), "cannot append to {}: {}", file(name),
                std::strerror(err));
}

uint64_t RunDir::size_of(const std::string& name) const {
  std::error_code ec;
  const auto n = std::filesystem::file_size(file(name), ec);
  return ec ? 0 : n;
}

void RunDir::truncate_to(const std::string& name, uint64_t bytes) const {
  if (!std::filesystem::exists(file(name))) {
    FUSENAS_CHECK(bytes == 0, "{} is missing but the checkpoint expects {} bytes", file(name),
                  bytes);
    return;
  }
  // Only ever shorten: a larger length (a corrupt or edited checkpoint) would pad with NULs.
  const uint64_t size = size_of(name);
  FUSENAS_CHECK(bytes <= size, "{} has {} bytes, fewer than the {} the checkpoint expects",
                file(name), size, bytes);
  std::filesystem::resize_file(file(name), bytes);
}

}  // namespace fusenas::nas
