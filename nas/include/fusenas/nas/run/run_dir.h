// A run folder: config.json, metrics.jsonl and friends, written so an interrupted and resumed run
// leaves the same files as an uninterrupted one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace fusenas::nas {

class RunDir {
 public:
  // Creates the folder (and parents). Throws with the path when it cannot.
  explicit RunDir(std::string path);
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const;

  // Whole-file writes are atomic (temp file, fsync, rename).
  void write_text(const std::string& name, const std::string& text) const;
  void write_json(const std::string& name, const nlohmann::json& j) const;
  // Appends one JSON object as a line and flushes it to disk.
  void append_jsonl(const std::string& name, const nlohmann::json& j) const;
  // Size of a file (0 when absent), recorded in checkpoints; truncate_to restores that length on
  // resume so lines written after the checkpoint are not duplicated.
  uint64_t size_of(const std::string& name) const;
  void truncate_to(const std::string& name, uint64_t bytes) const;

 private:
  std::string path_;
};

}  // namespace fusenas::nas
