// nas_report --rank: how well cheaper estimates rank architectures against a fully trained
// reference run (Kendall tau-b, Spearman rho, top-5 recall, cost relative to full training), one
// row per estimator, as a markdown table and JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fusenas::nas::report {

// One estimator scored against the reference; plain values, so tests can check them.
struct RankRow {
  // "run": another nas_search run's trials; "truncated": the reference's own val_acc after epoch
  // k; "extrapolated": its curve's first k epochs extrapolated to the last epoch.
  std::string kind;
  std::string label;    // the run folder's name and fidelity, or "truncated at epoch 3"
  std::string dir;      // the run folder, for kind "run"
  int k = 0;            // the epochs used, for the reference's own rows
  int64_t matched = 0;  // architectures scored both here and in the reference
  int64_t pruned = 0;   // of them scored by a pruned trial (its prediction or last curve value)
  // NaN when one side is constant (no ranking to compare).
  double kendall_tau = 0, spearman_rho = 0;
  int64_t top_k = 0;  // min(5, matched)
  double top_k_recall = 0;
  // Training seconds of the row's trials over the reference's for the same architectures (a
  // machine-load dependent ratio), and the exact ratio of the images pushed through training
  // (epochs x images x 1/downscale^2 each); unknown when a run's config lacks what they need.
  std::optional<double> cost_time, cost_compute;
  std::vector<std::string> notes;  // e.g. extrapolations that fell back to the best value
};

struct RankReport {
  std::string reference;         // its folder, as given
  std::string reference_label;   // name and fidelity
  int64_t reference_done = 0;    // done trials (each architecture counted once)
  int reference_epochs = 0;      // the shortest full curve among them
  double reference_minutes = 0;  // wall time of all its trials
  std::vector<RankRow> rows;
  // Rows left out (e.g. truncation at an epoch the reference never reached), in words.
  std::vector<std::string> skipped;
};

// Reads the reference and every run (config.json and trials.sqlite; the databases are only
// read). A run's done and pruned trials are matched to the reference's done ones by equal
// candidate JSON and equal hyperparameters; a candidate trained more than once counts its most
// trained trial (the latest on ties) as its score, every trial's time as its cost. Throws
// fusenas::Error with one sentence for a folder without a trial database, a reference without
// two done trials, or a run that shares fewer than two scored architectures with the reference.
RankReport build_rank_report(const std::string& reference, const std::vector<std::string>& runs,
                             const std::vector<int>& truncate_at = {1, 2, 3, 5},
                             const std::vector<int>& extrapolate_from = {3, 5});

std::string rank_markdown(const RankReport& report);
nlohmann::json to_json(const RankReport& report);

}  // namespace fusenas::nas::report
