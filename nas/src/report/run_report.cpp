// Builds the report's page model from a run folder (kind, state, sections by kind) and renders it
// as one self-contained HTML page (html_page.h): inline CSS and SVG, nothing fetched, and no
// script but a search's small table sorter.
#include "fusenas/nas/report/run_report.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"
#include "report/html_page.h"
#include "report/sections.h"

namespace fusenas::nas::report {

RunKind detect_kind(RunFiles& files) {
  // The checkpoint names its app; before the first checkpoint the files tell.
  if (const auto& ck = files.json_file("checkpoint.json", false)) {
    const auto format = string_field(*ck, "format").value_or("");
    if (format == "fusenas-darts") return RunKind::kDarts;
    if (format == "fusenas-enas") return RunKind::kEnas;
    if (format == "fusenas-train") return RunKind::kTrain;
    if (format == "fusenas-search") return RunKind::kSearch;
  }
  if (files.exists(TrialDb::kFile)) return RunKind::kSearch;
  if (files.exists("alphas.jsonl")) return RunKind::kDarts;
  if (files.exists("sampled_archs.jsonl")) return RunKind::kEnas;
  if (files.exists("train.log")) return RunKind::kTrain;
  if (const auto& config = files.json_file("config.json", false)) {
    if (config->contains("budget_trials")) return RunKind::kSearch;
    if (config->contains("controller_steps")) return RunKind::kEnas;
    if (config->contains("order")) return RunKind::kDarts;
    if (config->contains("init_channels")) return RunKind::kTrain;
  }
  return RunKind::kUnknown;
}

namespace {

// A search writes no result.json: its checkpoint says whether the budget is spent. A diverged
// trial is one failed trial, not a diverged run, so the log's divergences do not count here.
void detect_search_state(RunFiles& files, RunReport& report) {
  const auto& ck = files.json_file("checkpoint.json", false);
  bool finished = false;
  if (ck) {
    const auto it = ck->find("finished");
    finished = it != ck->end() && *it == true;
  }
  if (finished) {
    report.state = RunState::kFinished;
    report.state_detail = "checkpoint.json says the budget is spent";
  } else if (ck) {
    report.state = RunState::kStopped;
    report.state_detail =
        "checkpoint but budget not spent: stopped (resumable with --resume) or failed after "
        "its last trial";
  } else {
    report.state = RunState::kUnknown;
    report.state_detail = "unknown/incomplete: no lock holder, no checkpoint";
  }
}

void detect_state(RunFiles& files, RunReport& report) {
  if (run_is_live(files.dir())) {
    report.state = RunState::kRunning;
    std::string pid = files.text("run.lock", 64).value_or("");
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    report.state_detail = pid.empty() ? "run.lock is held" : "held by pid " + pid;
    return;
  }
  if (report.kind == RunKind::kSearch) {
    detect_search_state(files, report);
    return;
  }
  if (files.exists("result.json")) {
    report.state = RunState::kFinished;
    report.state_detail = "result.json written";
    return;
  }
  const std::string log = files.exists("search.log") ? "search.log" : "train.log";
  if (files.text(log).value_or("").find("diverged") != std::string::npos) {
    report.state = RunState::kDiverged;
    report.state_detail = "the log reports a divergence";
    return;
  }
  if (files.exists("checkpoint.json")) {
    // A stop by Ctrl-C and a crash after a checkpoint leave the same files.
    report.state = RunState::kStopped;
    report.state_detail =
        "checkpoint but no result.json: stopped (resumable with --resume) or "
        "failed after its last checkpoint";
    return;
  }
  report.state = RunState::kUnknown;
  report.state_detail = "unknown/incomplete: no lock holder, no checkpoint, no result";
}

}  // namespace

const char* to_string(RunKind kind) {
  switch (kind) {
    case RunKind::kDarts:
      return "nas_darts (DARTS search)";
    case RunKind::kEnas:
      return "nas_enas (ENAS search)";
    case RunKind::kTrain:
      return "nas_train (final training)";
    case RunKind::kSearch:
      return "nas_search (black-box search)";
    case RunKind::kUnknown:
      break;
  }
  return "unknown";
}

const char* to_string(RunState state) {
  switch (state) {
    case RunState::kRunning:
      return "running";
    case RunState::kFinished:
      return "finished";
    case RunState::kStopped:
      return "stopped";
    case RunState::kDiverged:
      return "diverged";
    case RunState::kUnknown:
      break;
  }
  return "unknown";
}

const Section* RunReport::find(const std::string& id) const {
  for (const auto& s : sections)
    if (s.id == id) return &s;
  return nullptr;
}

bool run_is_live(const std::string& dir) {
  const int fd = ::open((dir + "/run.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // A shared lock conflicts with the run's exclusive one and is dropped at once, so a run that
  // starts or resumes meanwhile is not turned away for longer than this call.
  const bool live = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return live;
}

RunReport build_run_report(const std::string& dir) {
  RunReport report;
  report.dir = dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    report.problems.push_back(fmt::format("{} is not a folder", dir));
    return report;
  }
  RunFiles files(dir);
  report.kind = detect_kind(files);
  detect_state(files, report);
  using Builder = void (*)(RunFiles&, RunReport&);
  std::vector<std::pair<const char*, Builder>> builders = {{"overview", add_overview}};
  // A search's runs are its trials: no result.json or metrics.jsonl of its own.
  if (report.kind != RunKind::kSearch)
    builders.insert(builders.end(), {{"result", add_result}, {"curves", add_curves}});
  switch (report.kind) {
    case RunKind::kDarts:
      builders.insert(builders.end(), {{"architecture", add_architecture}, {"alphas", add_alphas}});
      break;
    case RunKind::kEnas:
      builders.insert(builders.end(), {{"controller", add_controller},
                                       {"sampled", add_sampled},
                                       {"architecture", add_architecture}});
      break;
    case RunKind::kSearch:
      builders.insert(builders.end(), {{"search", add_search_plots},
                                       {"trials", add_trials},
                                       {"trial-curves", add_trial_curves}});
      break;
    case RunKind::kTrain:
    case RunKind::kUnknown:
      break;
  }
  builders.emplace_back("config", add_config);
  for (const auto& [name, build] : builders) {
    // A file of an unexpected shape must cost its section only, never the page.
    try {
      build(files, report);
    } catch (const std::exception& e) {
      files.problem(fmt::format("the {} section could not be drawn: {}", name, e.what()));
    }
  }
  if (report.kind == RunKind::kUnknown)
    files.problem(
        "the folder holds no run of nas_darts, nas_enas, nas_train or nas_search that can be "
        "told");
  report.problems = files.problems();
  return report;
}

std::string render_html(const RunReport& r, const HtmlOptions& options) {
  std::string subtitle = fmt::format("{} &middot; <span class='state state-{}'>{}</span>",
                                     to_string(r.kind), to_string(r.state), to_string(r.state));
  if (options.refresh_seconds > 0)
    subtitle += fmt::format(" &middot; this page reloads every {} s while the run is live",
                            options.refresh_seconds);
  // Only a search has a table long enough to want sorting; other pages stay script-free.
  return render_page(
      {folder_name(r.dir), subtitle, "Problems with this run folder", &r.problems, &r.sections},
      options, r.kind == RunKind::kSearch ? trial_sort_script() : "");
}

void write_report_file(const std::string& path, const std::string& html) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    FUSENAS_CHECK(out.good(), "cannot write {}", tmp);
    out << html;
    out.flush();
    FUSENAS_CHECK(out.good(), "cannot write {}", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    FUSENAS_FAIL("cannot write {}: rename failed", path);
  }
}

}  // namespace fusenas::nas::report
