// Tolerant reads of a run folder's files for the report: a missing, truncated or garbled file
// becomes a problem in words instead of an exception, and each file is read once.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/run/trial_db.h"

namespace fusenas::nas::report {

// What a black-box search's trial database holds, read in one go.
struct TrialStore {
  SearchIdentity identity;
  std::vector<Trial> trials;  // in id order
};

class RunFiles {
 public:
  explicit RunFiles(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  bool exists(const std::string& name) const;

  // A JSON object file; nullopt (and a problem when `expected`) when absent or unreadable.
  const std::optional<nlohmann::json>& json_file(const std::string& name, bool expected);
  // The JSON objects of a JSON-lines file; bad lines (a run killed mid-write truncates the last
  // one) are skipped and named as a problem.
  const std::vector<nlohmann::json>& jsonl(const std::string& name, bool expected);
  // The same, streamed one object at a time for files too long to hold (sampled_archs.jsonl of a
  // long ENAS search); returns the number of objects read.
  size_t scan_jsonl(const std::string& name, bool expected,
                    const std::function<void(const nlohmann::json&)>& fn);
  // trials.sqlite through TrialDb, which this only reads; nullopt (and a problem) when it is
  // missing or cannot be read (not a trial database, truncated, locked by a writer too long).
  const std::optional<TrialStore>& trial_store();
  // A text file up to max_bytes; nullopt when absent.
  std::optional<std::string> text(const std::string& name, size_t max_bytes = 1 << 20);

  void problem(std::string text) { problems_.push_back(std::move(text)); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::string dir_;
  std::map<std::string, std::optional<nlohmann::json>> json_;
  std::map<std::string, std::vector<nlohmann::json>> jsonl_;
  std::optional<std::optional<TrialStore>> trial_store_;  // outer: read yet
  std::vector<std::string> problems_;
};

// A field as a number when it is one (JSON numbers only; anything else is absent).
std::optional<double> number(const nlohmann::json& object, const char* key);
// A field as text when it is a string.
std::optional<std::string> string_field(const nlohmann::json& object, const char* key);

}  // namespace fusenas::nas::report
