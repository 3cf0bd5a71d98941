// Fixtures for tests of whole runs (training, search): a temporary folder, a tiny CIFAR-10 set
// written on the spot, and comparisons of two run folders' checkpoints and JSON-lines files.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// CIFAR-10 binary files with `per_file` records each; the label shifts the image brightness so
// there is something to learn.
void write_tiny_cifar(const std::string& dir, int per_file);

nlohmann::json read_json(const std::string& path);
// The tensors of a run folder's latest checkpoint.
std::map<std::string, Tensor> checkpoint_tensors(const std::string& run);
// gtest EXPECTs that two runs' checkpoints hold the same tensors, bit for bit.
void expect_same_tensors(const std::string& a, const std::string& b);
// The lines of <run>/<file> (JSON lines) without wall-clock fields (names with "seconds",
// "_per_s" or "wait").
std::vector<nlohmann::json> json_lines(const std::string& run, const std::string& file);

// A search's options for a test: CPU, one thread, no bar or echo, optionally the stop hook.
template <typename Options>
Options quiet_options(const std::string& out, int64_t stop_after = 0) {
  Options o;
  o.device = "cpu";
  o.threads = 1;
  o.out_dir = out;
  o.progress = false;
  o.echo = false;
  o.stop_after_steps = stop_after;
  return o;
}

}  // namespace fusenas::testing
