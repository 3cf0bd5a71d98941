// nas_report --rank: matches runs' trials to a reference run's by candidate, scores each
// estimator (other runs, and the reference's own truncated and extrapolated curves) by rank
// agreement and cost, and renders the table as markdown and JSON.
#include "fusenas/nas/report/rank_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "fusenas/engine/error.h"
#include "fusenas/nas/estimate/curve_extrapolation.h"
#include "fusenas/nas/estimate/rank_metrics.h"
#include "fusenas/nas/run/trial_db.h"
#include "report/html_page.h"
#include "report/run_files.h"

namespace fusenas::nas::report {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kTopK = 5;

// A search folder read in one go: config.json (else the copy the trial database keeps) and the
// trials.
struct Search {
  std::string dir;
  nlohmann::json config;
  std::vector<Trial> trials;
};

Search read_search(const std::string& dir, const char* role) {
  std::error_code ec;
  FUSENAS_CHECK(fs::is_directory(dir, ec), "{} {} is not a folder", role, dir);
  const std::string db_path = (fs::path(dir) / TrialDb::kFile).string();
  FUSENAS_CHECK(fs::exists(db_path, ec), "{} {} holds no {}: --rank takes nas_search run folders",
                role, dir, TrialDb::kFile);
  const TrialDb db = TrialDb::open(db_path);
  Search s{dir, db.identity().config, db.trials()};
  std::ifstream in((fs::path(dir) / "config.json").string(), std::ios::binary);
  if (in.good()) {
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) s.config = std::move(j);
  }
  if (!s.config.is_object()) s.config = nlohmann::json::object();
  return s;
}

// Candidates are equal when their architecture and hyperparameters are: nlohmann dumps objects
// with sorted keys, so equal JSON gives equal text.
std::string key_of(const Trial& t) {
  return t.candidate.dump() + "\n" + t.hyperparameters.dump();
}

// A fidelity value: the trial's own (Hyperband gives every rung its own), else the config's.
std::optional<double> fidelity_value(const Search& s, const Trial& t, const char* key) {
  if (auto v = number(t.fidelity, key)) return v;
  return number(s.config, key);
}

// Epochs a trial really trained: its curve when it has one (a pruned trial stopped early); none
// for a prediction (tapas), whose fidelity is the one it predicts at.
std::optional<double> trained_epochs(const Search& s, const Trial& t) {
  if (!t.curve.empty()) return static_cast<double>(t.curve.size());
  if (string_field(t.fidelity, "estimator").value_or("") == "tapas") return 0.0;
  if (t.status == TrialStatus::kDone) return fidelity_value(s, t, "epochs");
  return 0.0;  // never trained an epoch
}

// Training images per epoch, in units of a full-resolution image: train_subset (0 = the whole
// training set) x train_portion, over downscale^2 (a downscaled image has 1/d^2 of the pixels).
std::optional<double> images_per_epoch(const Search& s, const Trial& t) {
  std::optional<double> subset = fidelity_value(s, t, "train_subset");
  const std::optional<double> portion = number(s.config, "train_portion");
  if (!subset || !portion) return std::nullopt;
  const std::string dataset = string_field(s.config, "dataset").value_or("fashion-mnist");
  const double full = dataset == "fashion-mnist" ? 60000 : dataset == "cifar10" ? 50000 : 0;
  if (*subset <= 0 || (full > 0 && *subset > full)) subset = full;
  if (*subset <= 0) return std::nullopt;
  const double d = fidelity_value(s, t, "downscale").value_or(1);
  // A narrower network costs about scale^2 per image (conv work goes with in x out channels).
  const double w = fidelity_value(s, t, "model_scale").value_or(1);
  return *subset * *portion * w * w / (d * d);
}

// A one-shot search's supernet training (one_shot/checkpoint.json): its seconds and its
// image-epochs, which every trial of the search shares; nothing for other searches.
struct SharedCost {
  double seconds = 0;
  std::optional<double> image_epochs = 0.0;
};

SharedCost supernet_cost(const Search& s) {
  SharedCost c;
  if (string_field(s.config, "estimator").value_or("full") != "one-shot") return c;
  const std::string file = (fs::path(s.dir) / "one_shot" / "checkpoint.json").string();
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  FUSENAS_CHECK(!j.is_discarded() && j.contains("history") && j["history"].is_array(),
                "{}: a one-shot search needs its supernet's record to count its cost", file);
  int64_t epochs = 0;
  for (const nlohmann::json& e : j["history"]) {
    c.seconds += number(e, "seconds").value_or(0);
    ++epochs;
  }
  Trial any;  // the config's fidelity: images per epoch of the search's data
  const std::optional<double> n = images_per_epoch(s, any);
  c.image_epochs = n ? std::optional<double>(*n * static_cast<double>(epochs)) : std::nullopt;
  return c;
}

std::optional<double> image_epochs(const Search& s, const Trial& t) {
  const auto e = trained_epochs(s, t), n = images_per_epoch(s, t);
  if (!e || !n) return std::nullopt;
  return *e * *n;
}

// A pruned trial's score: the prediction the pruner recorded with it, else the last validation
// accuracy it reached.
std::optional<double> pruned_score(const Trial& t) {
  if (auto v = number(t.metrics, "predicted_val_acc")) return v;  // nas_search's curve estimator
  if (!t.curve.empty()) return number(t.curve.back(), "val_acc");
  return std::nullopt;
}

std::string format_number(double v) {
  return fmt::format("{:g}", v);
}

// "name (10 epochs, train_subset 5000, downscale 2, estimator curve)", then the trials' own
// fidelities where they differ from that (Hyperband's rungs).
std::string label_of(const Search& s, const std::vector<const Trial*>& trials) {
  std::vector<std::string> parts;
  const bool one_shot = string_field(s.config, "estimator").value_or("") == "one-shot";
  // A one-shot search's trials train nothing: its fidelity is the supernet's epochs.
  const auto epochs = number(s.config, one_shot ? "supernet_epochs" : "epochs");
  const auto subset = number(s.config, "train_subset");
  parts.push_back(
      (one_shot ? "supernet " : "") +
      (!epochs ? "? epochs" : format_number(*epochs) + (*epochs == 1 ? " epoch" : " epochs")));
  parts.push_back("train_subset " + (subset ? format_number(*subset) : std::string("?")));
  if (auto d = number(s.config, "downscale"); d && *d != 1)
    parts.push_back("downscale " + format_number(*d));
  if (auto w = number(s.config, "model_scale"); w && *w != 1)
    parts.push_back("model scale " + format_number(*w));
  if (auto e = string_field(s.config, "estimator"); e && *e != "full")
    parts.push_back("estimator " + *e);
  std::string label = fmt::format("{} ({})", folder_name(s.dir), fmt::join(parts, ", "));
  // Per fidelity key, the values the trials recorded that the config does not already say:
  // scalars listed (Hyperband's epochs per rung), objects named only (its bookkeeping).
  std::map<std::string, std::set<std::string>> values;
  std::set<std::string> differ, objects;
  for (const Trial* t : trials) {
    if (!t->fidelity.is_object()) continue;
    for (const auto& [key, value] : t->fidelity.items()) {
      if (one_shot && (key == "epochs" || key == "supernet_epochs")) continue;
      if (!s.config.contains(key) || s.config[key] != value) differ.insert(key);
      if (value.is_structured()) {
        objects.insert(key);
      } else {
        values[key].insert(value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
  }
  std::vector<std::string> extra;
  for (const auto& [key, set] : values) {
    if (!differ.contains(key) || objects.contains(key)) continue;
    std::vector<std::string> shown(set.begin(), set.end());
    std::sort(shown.begin(), shown.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
    const bool cut = shown.size() > 5;
    shown.resize(std::min<size_t>(shown.size(), 5));
    extra.push_back(fmt::format("{} {}{}", key, fmt::join(shown, "/"), cut ? "/..." : ""));
  }
  for (const std::string& key : objects)
    if (differ.contains(key)) extra.push_back(key);
  if (!extra.empty()) label += fmt::format("; trials: {}", fmt::join(extra, ", "));
  return label;
}

// The reference's done trials, one per architecture (the first, in id order).
struct Truth {
  const Trial* trial;
  double score;
  std::vector<double> curve;  // val_acc per epoch
};

void score_row(RankRow& row, const std::vector<double>& scores, const std::vector<double>& truth) {
  row.matched = static_cast<int64_t>(scores.size());
  row.kendall_tau = estimate::kendall_tau(scores, truth);
  row.spearman_rho = estimate::spearman_rho(scores, truth);
  row.top_k = std::min<int64_t>(kTopK, row.matched);
  row.top_k_recall = estimate::top_k_recall(scores, truth, row.top_k);
}

std::optional<double> ratio(std::optional<double> num, std::optional<double> den) {
  if (!num || !den || *den <= 0) return std::nullopt;
  return *num / *den;
}

void add(std::optional<double>& sum, std::optional<double> v) {
  if (sum && v) {
    *sum += *v;
  } else {
    sum.reset();
  }
}

RankRow run_row(const Search& run, const Search& ref, const std::map<std::string, Truth>& truth) {
  // Per matched architecture: its most trained scored trial, and every trial's cost.
  struct Group {
    const Trial* best = nullptr;
    double best_epochs = -1;
    std::optional<double> score;
    std::vector<const Trial*> all;
  };
  std::map<std::string, Group> groups;
  for (const Trial& t : run.trials) {
    const auto it = truth.find(key_of(t));
    if (it == truth.end()) continue;
    Group& g = groups[it->first];
    g.all.push_back(&t);
    std::optional<double> score;
    if (t.status == TrialStatus::kDone) score = t.score;
    if (t.status == TrialStatus::kPruned) score = pruned_score(t);
    if (!score || !std::isfinite(*score)) continue;
    const double e = trained_epochs(run, t).value_or(0);
    if (e >= g.best_epochs) {
      g.best = &t;
      g.best_epochs = e;
      g.score = score;
    }
  }
  RankRow row;
  row.kind = "run";
  row.dir = run.dir;
  std::vector<double> scores, truths;
  std::vector<const Trial*> scored;  // every trial of a scored architecture, for the label
  std::optional<double> time = 0.0, ref_time = 0.0, compute = 0.0, ref_compute = 0.0;
  // In the reference's trial order, so that top-k ties break the same way in every row.
  std::vector<std::pair<const Truth*, const Group*>> matched;
  for (const auto& [key, g] : groups)
    if (g.best) matched.emplace_back(&truth.at(key), &g);
  std::sort(matched.begin(), matched.end(),
            [](const auto& a, const auto& b) { return a.first->trial->id < b.first->trial->id; });
  for (const auto& [truth_of, group] : matched) {
    const Truth& tr = *truth_of;
    const Group& g = *group;
    scores.push_back(*g.score);
    truths.push_back(tr.score);
    if (g.best->status == TrialStatus::kPruned) ++row.pruned;
    for (const Trial* t : g.all) {
      scored.push_back(t);
      // A trial still running (or waiting) in a live search has cost nothing final yet.
      if (t->status == TrialStatus::kRunning || t->status == TrialStatus::kPending) continue;
      add(time, t->wall_seconds);
      add(compute, image_epochs(run, *t));
    }
    add(ref_time, tr.trial->wall_seconds);
    add(ref_compute, image_epochs(ref, *tr.trial));
  }
  // A supernet trained once is charged to the matched architectures by their share of the
  // search's scored trials.
  const SharedCost shared = supernet_cost(run);
  int64_t scored_trials = 0;
  for (const Trial& t : run.trials)
    if (t.status == TrialStatus::kDone) ++scored_trials;
  if (scored_trials > 0) {
    const double share = static_cast<double>(matched.size()) / static_cast<double>(scored_trials);
    add(time, shared.seconds * share);
    add(compute,
        shared.image_epochs ? std::optional<double>(*shared.image_epochs * share) : std::nullopt);
  }
  row.label = label_of(run, scored);
  FUSENAS_CHECK(scores.size() >= 2,
                "run {} shares {} scored architecture(s) with the reference {} (matched by "
                "candidate and hyperparameters); a rank correlation needs at least 2",
                run.dir, scores.size(), ref.dir);
  score_row(row, scores, truths);
  row.cost_time = ratio(time, ref_time);
  row.cost_compute = ratio(compute, ref_compute);
  return row;
}

// Seconds of a trial's first k epochs: the curve's per-epoch times, else its share of the wall.
std::optional<double> first_epochs_seconds(const Truth& t, int k) {
  double sum = 0;
  for (int e = 0; e < k; ++e) {
    const auto s = number(t.trial->curve[static_cast<size_t>(e)], "seconds");
    if (!s) {
      if (!t.trial->wall_seconds) return std::nullopt;
      return *t.trial->wall_seconds * k / static_cast<double>(t.curve.size());
    }
    sum += *s;
  }
  return sum;
}

// "truncated at epoch k" (extrapolate false) or "curve extrapolation from k epochs" over the
// reference's trials whose curve goes beyond epoch k.
std::optional<RankRow> curve_row(const Search& ref, const std::vector<const Truth*>& truth, int k,
                                 bool extrapolate, std::vector<std::string>& skipped) {
  RankRow row;
  row.kind = extrapolate ? "extrapolated" : "truncated";
  row.k = k;
  row.label = extrapolate ? fmt::format("curve extrapolation from {} epochs", k)
                          : fmt::format("truncated at epoch {}", k);
  std::vector<double> scores, truths;
  std::optional<double> time = 0.0, ref_time = 0.0, compute = 0.0, ref_compute = 0.0;
  int64_t fallbacks = 0, failed = 0;
  for (const Truth* t : truth) {
    if (static_cast<int>(t->curve.size()) <= k) continue;
    double score = t->curve[static_cast<size_t>(k - 1)];
    double fit_seconds = 0;
    if (extrapolate) {
      // The curve is in percent; the families live in [0, 1].
      std::vector<double> prefix;
      for (int e = 0; e < k; ++e) prefix.push_back(t->curve[static_cast<size_t>(e)] / 100);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        const estimate::CurvePrediction p =
            estimate::extrapolate_curve(prefix, static_cast<int64_t>(t->curve.size()));
        score = p.mean * 100;
        if (p.fallback) ++fallbacks;
      } catch (const Error&) {
        ++failed;
        continue;
      }
      fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    scores.push_back(score);
    truths.push_back(t->score);
    std::optional<double> s = first_epochs_seconds(*t, k);
    if (s) *s += fit_seconds;
    add(time, s);
    add(ref_time, t->trial->wall_seconds);
    const auto n = images_per_epoch(ref, *t->trial);
    add(compute, n ? std::optional<double>(*n * k) : std::nullopt);
    add(ref_compute,
        n ? std::optional<double>(*n * static_cast<double>(t->curve.size())) : std::nullopt);
  }
  if (scores.size() < 2) {
    size_t longest = 0;
    for (const Truth* t : truth) longest = std::max(longest, t->curve.size());
    skipped.push_back(
        static_cast<int>(longest) <= k
            ? fmt::format("{}: the reference's curves end at epoch {}", row.label, longest)
            : fmt::format("{}: only {} of the reference's curves go beyond epoch {}", row.label,
                          scores.size(), k));
    return std::nullopt;
  }
  score_row(row, scores, truths);
  row.cost_time = ratio(time, ref_time);
  row.cost_compute = ratio(compute, ref_compute);
  if (fallbacks > 0)
    row.notes.push_back(
        fmt::format("{} of {} curves fitted no family and were predicted at their best value",
                    fallbacks, scores.size()));
  if (failed > 0)
    row.notes.push_back(
        fmt::format("{} curves could not be extrapolated and are left out", failed));
  return row;
}

std::string cell(double v, const char* spec = "{:.3f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : "n/a";
}

std::string cost_cell(std::optional<double> v) {
  return v ? fmt::format("{:.3g}", *v) : "n/a";
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json number_or_null(std::optional<double> v) {
  return v ? number_or_null(*v) : nlohmann::json(nullptr);
}

// Markdown cells hold one line, and a | would end the cell.
std::string md(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c == '\n' ? ' ' : c;
    }
  }
  return out;
}

}  // namespace

RankReport build_rank_report(const std::string& reference, const std::vector<std::string>& runs,
                             const std::vector<int>& truncate_at,
                             const std::vector<int>& extrapolate_from) {
  const Search ref = read_search(reference, "reference");
  std::map<std::string, Truth> truth;
  std::vector<const Truth*> in_order;  // by trial id
  RankReport report;
  report.reference = reference;
  for (const Trial& t : ref.trials) {
    report.reference_minutes += t.wall_seconds.value_or(0) / 60;
    if (t.status != TrialStatus::kDone || !t.score || !std::isfinite(*t.score)) continue;
    Truth tr{&t, *t.score, {}};
    for (const nlohmann::json& m : t.curve) {
      const auto v = number(m, "val_acc");
      if (!v) break;
      tr.curve.push_back(*v);
    }
    // A repeated architecture keeps its first training: the reference is one score per
    // architecture.
    const auto [it, added] = truth.emplace(key_of(t), std::move(tr));
    if (added) in_order.push_back(&it->second);
  }
  report.reference_done = static_cast<int64_t>(truth.size());
  FUSENAS_CHECK(report.reference_done >= 2,
                "reference {} has {} done architecture(s); a rank correlation needs at least 2",
                reference, report.reference_done);
  std::vector<const Trial*> ref_trials;
  int epochs = 0;
  for (const Truth* t : in_order) {
    ref_trials.push_back(t->trial);
    const int n = static_cast<int>(t->curve.size());
    epochs = epochs == 0 ? n : std::min(epochs, n);
  }
  report.reference_epochs = epochs;
  report.reference_label = label_of(ref, ref_trials);
  for (const std::string& dir : runs)
    report.rows.push_back(run_row(read_search(dir, "run"), ref, truth));
  for (const bool extrapolate : {false, true}) {
    for (const int k : extrapolate ? extrapolate_from : truncate_at) {
      if (auto row = curve_row(ref, in_order, k, extrapolate, report.skipped))
        report.rows.push_back(std::move(*row));
    }
  }
  return report;
}

std::string rank_markdown(const RankReport& r) {
  std::string out = fmt::format("# Rank correlation against {}\n\n", md(r.reference_label));
  out += fmt::format(
      "Reference: {}, {} architectures trained for {} epochs ({:.1f} minutes of training). Each "
      "row ranks the same architectures by a cheaper estimate; cost is relative to their full "
      "training, by wall time and by images trained (epochs x images x model_scale^2 / "
      "downscale^2).\n\n",
      md(r.reference), r.reference_done, r.reference_epochs, r.reference_minutes);
  out +=
      "| estimator | architectures | Kendall tau | Spearman rho | top-5 recall | cost (time) | "
      "cost (compute) |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const RankRow& row : r.rows) {
    const std::string archs = row.pruned > 0
                                  ? fmt::format("{} ({} pruned)", row.matched, row.pruned)
                                  : fmt::format("{}", row.matched);
    const std::string recall = row.top_k == kTopK
                                   ? cell(row.top_k_recall, "{:.2f}")
                                   : fmt::format("{:.2f} (top {})", row.top_k_recall, row.top_k);
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md(row.label), archs,
                       cell(row.kendall_tau), cell(row.spearman_rho), recall,
                       cost_cell(row.cost_time), cost_cell(row.cost_compute));
  }
  std::vector<std::string> notes;
  for (const RankRow& row : r.rows)
    for (const std::string& n : row.notes) notes.push_back(row.label + ": " + n);
  for (const std::string& s : r.skipped) notes.push_back("left out: " + s);
  if (!notes.empty()) {
    out += "\n";
    for (const std::string& n : notes) out += "- " + md(n) + "\n";
  }
  return out;
}

nlohmann::json to_json(const RankReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const RankRow& row : r.rows) {
    rows.push_back({{"kind", row.kind},
                    {"label", row.label},
                    {"dir", row.dir},
                    {"k", row.k},
                    {"matched", row.matched},
                    {"pruned", row.pruned},
                    {"kendall_tau", number_or_null(row.kendall_tau)},
                    {"spearman_rho", number_or_null(row.spearman_rho)},
                    {"top_k", row.top_k},
                    {"top_k_recall", number_or_null(row.top_k_recall)},
                    {"cost_time", number_or_null(row.cost_time)},
                    {"cost_compute", number_or_null(row.cost_compute)},
                    {"notes", row.notes}});
  }
  return {{"reference",
           {{"dir", r.reference},
            {"label", r.reference_label},
            {"architectures", r.reference_done},
            {"epochs", r.reference_epochs},
            {"minutes", r.reference_minutes}}},
          {"rows", rows},
          {"skipped", r.skipped}};
}

}  // namespace fusenas::nas::report
