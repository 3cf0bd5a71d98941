// Tolerant reads of a run folder's files for the report (see run_files.h).
#include "report/run_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fusenas::nas::report {

bool RunFiles::exists(const std::string& name) const {
  std::error_code ec;
  return std::filesystem::is_regular_file(path(name), ec);
}

std::optional<std::string> RunFiles::text(const std::string& name, size_t max_bytes) {
  std::ifstream in(path(name), std::ios::binary);
  if (!in) return std::nullopt;
  std::string out(max_bytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max_bytes));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

const std::optional<nlohmann::json>& RunFiles::json_file(const std::string& name, bool expected) {
  auto it = json_.find(name);
  if (it != json_.end()) return it->second;
  std::optional<nlohmann::json>& slot = json_[name];
  const auto content = text(name, 16 << 20);
  if (!content) {
    if (expected) problem(fmt::format("{} is missing", name));
    return slot;
  }
  auto j = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    problem(fmt::format("{} is not a JSON object (unreadable: truncated or garbled, {} bytes)",
                        name, content->size()));
    return slot;
  }
  slot = std::move(j);
  return slot;
}

size_t RunFiles::scan_jsonl(const std::string& name, bool expected,
                            const std::function<void(const nlohmann::json&)>& fn) {
  std::ifstream in(path(name), std::ios::binary);
  if (!in) {
    if (expected) problem(fmt::format("{} is missing", name));
    return 0;
  }
  std::string line;
  size_t number = 0, read = 0, bad = 0, first_bad = 0;
  bool last_bad = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    last_bad = j.is_discarded() || !j.is_object();
    if (last_bad) {
      if (bad++ == 0) first_bad = number;
      continue;
    }
    ++read;
    fn(j);
  }
  if (bad == 1 && last_bad) {
    problem(
        fmt::format("{}: the last line ({}) is incomplete (a run stopped mid-write?); "
                    "skipped",
                    name, number));
  } else if (bad > 0) {
    problem(fmt::format("{}: {} unreadable line(s), the first is line {}; skipped", name, bad,
                        first_bad));
  }
  if (read == 0 && bad == 0 && expected) problem(fmt::format("{} is empty", name));
  return read;
}

const std::vector<nlohmann::json>& RunFiles::jsonl(const std::string& name, bool expected) {
  auto it = jsonl_.find(name);
  if (it != jsonl_.end()) return it->second;
  std::vector<nlohmann::json>& rows = jsonl_[name];
  scan_jsonl(name, expected, [&](const nlohmann::json& j) { rows.push_back(j); });
  return rows;
}

const std::optional<TrialStore>& RunFiles::trial_store() {
  if (trial_store_) return *trial_store_;
  std::optional<TrialStore>& slot = trial_store_.emplace();
  if (!exists(TrialDb::kFile)) {
    problem(fmt::format("{} is missing (no trials to show)", TrialDb::kFile));
    return slot;
  }
  try {
    const TrialDb db = TrialDb::open(path(TrialDb::kFile));
    slot = TrialStore{db.identity(), db.trials()};
  } catch (const std::exception& e) {
    problem(fmt::format("{} cannot be read: {}", TrialDb::kFile, e.what()));
  }
  return slot;
}

std::optional<double> number(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<std::string> string_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace fusenas::nas::report
