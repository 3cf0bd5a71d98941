// GzipReader: zlib's gz* API behind exact-length reads that turn every failure into an Error.
#include "gzip_reader.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "fusenas/engine/error.h"

namespace fusenas::data {
namespace {

// zlib's message without the "path: " prefix it adds, since our messages lead with the path.
std::string zlib_message(gzFile file, const std::string& path, int* code) {
  const char* raw = gzerror(file, code);
  std::string message = raw != nullptr ? raw : "unknown zlib error";
  if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
  return message;
}

}  // namespace

GzipReader::GzipReader(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  FUSENAS_CHECK(std::filesystem::is_regular_file(path_, ec), "{}: file not found", path_);
  file_ = gzopen(path_.c_str(), "rb");
  FUSENAS_CHECK(file_ != nullptr, "{}: cannot open: {}", path_, std::strerror(errno));
  gzbuffer(file_, 1 << 20);
}

GzipReader::~GzipReader() {
  if (file_ != nullptr) gzclose(file_);
}

size_t GzipReader::read_some(void* dst, size_t n) {
  const auto chunk = static_cast<unsigned>(std::min<size_t>(n, INT_MAX / 2));
  const int got = gzread(file_, dst, chunk);
  if (got < 0) {
    int code = 0;
    FUSENAS_FAIL("{}: corrupt or truncated gzip data after {} decompressed bytes (zlib: {})", path_,
                 consumed_, zlib_message(file_, path_, &code));
  }
  consumed_ += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

void GzipReader::read_exact(void* dst, size_t n, const char* what) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    const size_t got = read_some(out + done, n - done);
    if (got == 0) break;
    done += got;
  }
  if (done < n) {
    // A stream cut short ends "cleanly" from gzread's view; only gzerror tells why.
    int code = Z_OK;
    const std::string message = zlib_message(file_, path_, &code);
    FUSENAS_FAIL("{}: truncated: {} needs {} bytes, only {} left{}", path_, what, n, done,
                 code != Z_OK ? " (zlib: " + message + ")" : std::string());
  }
}

std::vector<uint8_t> GzipReader::read_vector(size_t n, const char* what) {
  constexpr size_t kChunk = size_t{4} << 20;
  std::vector<uint8_t> out;
  while (out.size() < n) {
    const size_t done = out.size();
    const size_t want = std::min(n - done, std::max(kChunk, done));  // doubling, from 4 MiB
    out.resize(done + want);
    size_t got = 0;
    while (got < want) {
      const size_t some = read_some(out.data() + done + got, want - got);
      if (some == 0) break;
      got += some;
    }
    if (got < want) {
      int code = Z_OK;
      const std::string message = zlib_message(file_, path_, &code);
      FUSENAS_FAIL("{}: truncated: {} needs {} bytes, only {} left{}", path_, what, n, done + got,
                   code != Z_OK ? " (zlib: " + message + ")" : std::string());
    }
  }
  return out;
}

uint32_t GzipReader::read_be32(const char* what) {
  unsigned char b[4];
  read_exact(b, 4, what);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void GzipReader::expect_end() {
  unsigned char extra[256];
  size_t total = 0;
  for (size_t got; (got = read_some(extra, sizeof(extra))) > 0;) total += got;
  // zlib reports a stream cut short (e.g. a missing CRC trailer) only through gzerror.
  int code = Z_OK;
  const std::string message = zlib_message(file_, path_, &code);
  FUSENAS_CHECK(code == Z_OK, "{}: truncated gzip stream after {} decompressed bytes (zlib: {})",
                path_, consumed_, message);
  FUSENAS_CHECK(total == 0, "{}: {} unexpected trailing bytes after the data", path_, total);
}

}  // namespace fusenas::data
