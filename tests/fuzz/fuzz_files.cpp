// Scratch files for the path-taking readers; errors here are the harness's, so they abort.
#include "fuzz_files.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz_target.h"

namespace fusenas::fuzz {
namespace {

[[noreturn]] void harness_failure(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(scratch_dir()) / name;
  std::error_code ec;
  // Removing the files one by one is much cheaper than remove_all's recursion (under ASan).
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_directory(ec)) {
        fs::remove_all(e.path(), ec);
      } else {
        fs::remove(e.path(), ec);
      }
    }
  }
  fs::create_directories(dir, ec);
  if (ec) harness_failure("cannot create " + dir.string() + ": " + ec.message());
  return dir.string();
}

void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) harness_failure("cannot write " + path);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) harness_failure("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gzip_bytes(std::string_view bytes) {
  z_stream z{};
  // windowBits + 16 asks zlib for the gzip wrapper; a small window and memLevel keep its state
  // (allocated per call) small, which under ASan is most of the cost.
  if (deflateInit2(&z, 1, Z_DEFLATED, 9 + 16, 1, Z_DEFAULT_STRATEGY) != Z_OK)
    harness_failure("deflateInit2 failed");
  std::string out(deflateBound(&z, bytes.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) harness_failure("deflate did not finish");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace fusenas::fuzz
