// Reads the searches of nas_report --compare (config.json and trials.sqlite of each folder, the
// database only read) into ComparedSearch rows and gives each series a name of its own.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "fusenas/nas/report/compare_report.h"
#include "report/html_page.h"
#include "report/search_view.h"
#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

constexpr size_t kTextChars = 2000;

// A config field as text: config.json first, else the copy the trial database keeps.
std::string config_text(const nlohmann::json* config, const TrialStore& store, const char* key) {
  for (const nlohmann::json* c : {config, &store.identity.config}) {
    if (!c || !c->is_object()) continue;
    const auto it = c->find(key);
    if (it != c->end() && !it->is_null()) return cell_text(*it);
  }
  return {};
}

ComparedSearch summarise(const std::string& dir, const nlohmann::json* config,
                         const TrialStore& store) {
  ComparedSearch s;
  s.dir = dir;
  s.strategy = config_text(config, store, "strategy");
  if (s.strategy.empty()) s.strategy = store.identity.strategy;
  s.space = config_text(config, store, "space");
  if (s.space.empty()) s.space = store.identity.space;
  s.hpo = config_text(config, store, "hpo");
  s.seed = store.identity.seed;
  const std::string epochs = config_text(config, store, "epochs");
  const std::string subset = config_text(config, store, "train_subset");
  const std::string dataset = config_text(config, store, "dataset");
  if (!epochs.empty() || !subset.empty() || !dataset.empty()) {
    s.fidelity = fmt::format("{} epochs on {} images of {}", epochs.empty() ? "?" : epochs,
                             subset.empty() ? "?" : subset, dataset.empty() ? "?" : dataset);
  }
  const TrialCounts n = count_trials(store.trials);
  s.trials = static_cast<int64_t>(store.trials.size());
  s.done = n.done;
  s.failed = n.failed;
  s.points = trial_points(store.trials);
  for (const Trial& t : store.trials) s.minutes += t.wall_seconds.value_or(0) / 60;
  const std::vector<const Trial*> ranked = ranked_done(store.trials);
  if (ranked.empty()) return s;
  const Trial& best = *ranked.front();
  s.best_score = best.score;
  s.best_trial = best.id;
  s.best_params = best.params;
  s.best_text = candidate_text(best, kTextChars);
  if (!s.hpo.empty() && s.hpo != "off") s.best_hp = hp_text(best.hyperparameters);
  for (const TrialPoint& p : s.points)
    if (p.id == best.id) s.best_minutes = p.elapsed_seconds / 60;
  return s;
}

// Reads one folder: a search is appended to `out`, anything else is refused or a problem.
void read_folder(const std::string& dir, CompareReport& out) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.problems.push_back(fmt::format("{} is not a folder", dir));
    return;
  }
  RunFiles files(dir);
  const RunKind kind = detect_kind(files);
  if (kind == RunKind::kDarts || kind == RunKind::kEnas || kind == RunKind::kTrain) {
    out.refused.push_back(fmt::format("{} holds a {} run", dir, to_string(kind)));
    return;
  }
  if (kind == RunKind::kUnknown) {
    out.problems.push_back(
        fmt::format("{}: no black-box search here (no trials.sqlite, no search config.json)", dir));
    return;
  }
  const auto& config = files.json_file("config.json", true);
  const auto& store = files.trial_store();
  for (const std::string& p : files.problems()) out.problems.push_back(dir + ": " + p);
  if (!store) return;
  out.searches.push_back(summarise(dir, config ? &*config : nullptr, *store));
}

// Series names: the strategy; where searches share one, what tells them apart (space, hpo mode),
// else the folder's name, else the position given.
void name_series(std::vector<ComparedSearch>& searches) {
  const auto base = [](const ComparedSearch& s) {
    return s.strategy.empty() ? std::string("search") : s.strategy;
  };
  std::map<std::string, std::vector<ComparedSearch*>> by_strategy;
  for (ComparedSearch& s : searches) {
    s.name = base(s);
    by_strategy[s.name].push_back(&s);
  }
  for (auto& [strategy, group] : by_strategy) {
    if (group.size() < 2) continue;
    const auto differ = [&](auto field) {
      return std::any_of(group.begin(), group.end(),
                         [&](const ComparedSearch* s) { return field(*s) != field(*group[0]); });
    };
    const bool spaces = differ([](const ComparedSearch& s) { return s.space; });
    const bool hpos = differ([](const ComparedSearch& s) { return s.hpo; });
    for (ComparedSearch* s : group) {
      std::string extra;
      if (spaces) extra = s->space;
      if (hpos) extra += (extra.empty() ? "hpo " : ", hpo ") + (s->hpo.empty() ? "?" : s->hpo);
      if (!extra.empty()) s->name = fmt::format("{} ({})", strategy, extra);
    }
  }
  const auto repeated = [&](const ComparedSearch& s) {
    return std::count_if(searches.begin(), searches.end(),
                         [&](const ComparedSearch& o) { return o.name == s.name; }) > 1;
  };
  std::vector<bool> clash;
  for (const ComparedSearch& s : searches) clash.push_back(repeated(s));
  for (size_t i = 0; i < searches.size(); ++i) {
    if (clash[i])
      searches[i].name = fmt::format("{} ({})", base(searches[i]), folder_name(searches[i].dir));
  }
  // The same folder given twice, or two folders of one name under different parents.
  clash.clear();
  for (const ComparedSearch& s : searches) clash.push_back(repeated(s));
  for (size_t i = 0; i < searches.size(); ++i)
    if (clash[i]) searches[i].name += fmt::format(" #{}", i + 1);
}

}  // namespace

CompareReport build_compare_report(const std::vector<std::string>& dirs) {
  CompareReport report;
  for (const std::string& dir : dirs) {
    // A folder whose files are of an unexpected shape costs its row only, never the page.
    try {
      read_folder(dir, report);
    } catch (const std::exception& e) {
      report.problems.push_back(fmt::format("{} could not be read: {}", dir, e.what()));
    }
  }
  name_series(report.searches);
  return report;
}

}  // namespace fusenas::nas::report
