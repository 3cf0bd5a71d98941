// GzipReader: exact-length reads from a gzip (or plain) file, with errors that name the file.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fusenas::data {

class GzipReader {
 public:
  explicit GzipReader(std::string path);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Reads exactly n bytes; `what` names the part of the file in the error on a short read.
  void read_exact(void* dst, size_t n, const char* what);
  // Reads exactly n bytes into a buffer that grows as data arrives, so a corrupt count in a
  // header costs no more memory than the file really holds.
  std::vector<uint8_t> read_vector(size_t n, const char* what);
  uint32_t read_be32(const char* what);
  // Throws unless the decompressed stream ends here.
  void expect_end();
  const std::string& path() const { return path_; }

 private:
  size_t read_some(void* dst, size_t n);  // 0 only at the end of the stream

  std::string path_;
  gzFile file_ = nullptr;
  uint64_t consumed_ = 0;  // decompressed bytes read so far
};

}  // namespace fusenas::data
