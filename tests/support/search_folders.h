// Fake nas_search run folders for report tests: config.json, checkpoint.json and a trials.sqlite
// written through TrialDb, with trials whose scores, sizes and wall times the test chooses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/run/trial_db.h"

namespace fusenas::testing {

struct FakeTrial {
  enum class End { kDone, kFailed, kPending };
  End end = End::kDone;
  double score = 0;  // when done
  int64_t params = 0;
  double wall_seconds = 0;  // when done or failed
  std::string text;         // the architecture's text, as nas_search stores it
  nlohmann::json hp = nlohmann::json::object();
};

inline FakeTrial fake_done(double score, int64_t params, double wall_seconds,
                           std::string text = {}) {
  return {FakeTrial::End::kDone, score, params, wall_seconds, std::move(text)};
}
inline FakeTrial fake_failed(double wall_seconds) {
  return {FakeTrial::End::kFailed, 0, 0, wall_seconds, {}};
}
inline FakeTrial fake_pending() {
  return {FakeTrial::End::kPending, 0, 0, 0, {}};
}

struct FakeSearch {
  std::string strategy = "random", space = "chain", hpo = "off";
  uint64_t seed = 1;
  int epochs = 2;
  int64_t train_subset = 2000;
  std::vector<FakeTrial> trials;
};

// The keys of nas_search's config.json that the report reads.
inline nlohmann::json fake_search_config(const FakeSearch& s) {
  return {{"preset", "quick"},
          {"strategy", s.strategy},
          {"space", s.space},
          {"space_options", nlohmann::json::object()},
          {"hpo", s.hpo},
          {"budget_trials", static_cast<int64_t>(s.trials.size())},
          {"budget_minutes", 0},
          {"epochs", s.epochs},
          {"dataset", "fashion-mnist"},
          {"train_subset", s.train_subset},
          {"batch_size", 96},
          {"lr", 0.05},
          {"momentum", 0.9},
          {"weight_decay", 3e-4},
          {"seed", s.seed}};
}

// Writes the folder (created if needed). Each trial state change is a synced commit: keep the
// trials few.
inline void write_fake_search(const std::string& dir, const FakeSearch& s) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const nlohmann::json config = fake_search_config(s);
  std::ofstream(dir + "/config.json", std::ios::binary) << config.dump();
  std::ofstream(dir + "/checkpoint.json", std::ios::binary)
      << nlohmann::json{{"format", "fusenas-search"}, {"version", 1}, {"finished", true}}.dump();
  nas::TrialDb db =
      nas::TrialDb::create(dir + "/" + nas::TrialDb::kFile, {s.strategy, s.space, s.seed, config});
  int filters = 8;
  for (const FakeTrial& t : s.trials) {
    nas::NewTrial nt;
    nt.candidate = {{"layers", {{{"type", "conv"}, {"filters", filters++}}}}};
    nt.encoding = {0.5f};
    nt.hyperparameters = t.hp;
    nt.fidelity = {{"epochs", s.epochs}, {"train_subset", s.train_subset}};
    const int64_t id = db.add(nt);
    if (t.end == FakeTrial::End::kPending) continue;
    db.start(id);
    if (t.end == FakeTrial::End::kFailed) {
      db.fail(id, "diverged: loss is NaN", t.wall_seconds);
      continue;
    }
    nas::TrialResult r;
    r.metrics = {{"val_acc", t.score}};
    if (!t.text.empty()) r.metrics["text"] = t.text;
    r.score = t.score;
    r.params = t.params;
    r.wall_seconds = t.wall_seconds;
    db.finish(id, r);
  }
}

}  // namespace fusenas::testing
