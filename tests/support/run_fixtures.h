// Fixtures for tests of whole runs (training, search): a temporary folder, a tiny training config
// and a tiny CIFAR-10 set written on the spot, and comparisons of two run folders' checkpoints and
// JSON-lines files.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"
#include "fusenas/nas/train/train_config.h"

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

// A nas_train config small enough for a second per run on write_tiny_cifar(data_dir, 8), yet with
// every stateful part switched on: augmentation (crop, flip, cutout), the auxiliary head,
// drop-path (> 0 from the second epoch), momentum, weight decay and clipping. 2 epochs of 3
// batches.
nas::TrainConfig tiny_train_config(const std::string& data_dir);

// CIFAR-10 binary files with `per_file` records each; the label shifts the image brightness so
// there is something to learn.
void write_tiny_cifar(const std::string& dir, int per_file);

// A text corpus of `lines` lines: four sentences of 21 distinct words in a fixed order (a pattern
// of twelve lines), so that a language model that carries its state can predict almost every
// token.
void write_pattern_corpus(const std::string& path, int lines);

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
