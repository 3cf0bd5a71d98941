// The page model of nas_report: what a run folder (nas_darts, nas_enas, nas_train, nas_search)
// holds, read tolerantly into titled sections, and its rendering as one self-contained HTML page.
#pragma once

#include <string>
#include <vector>

namespace fusenas::nas::report {

enum class RunKind { kDarts, kEnas, kTrain, kSearch, kUnknown };
enum class RunState { kRunning, kFinished, kStopped, kDiverged, kUnknown };

const char* to_string(RunKind kind);
const char* to_string(RunState state);

// One block of the page. Each kind of run contributes its own sections; a new kind of run adds
// section builders and nothing else changes.
struct Section {
  std::string id;  // the HTML id, stable: tests and links rely on it
  std::string title;
  std::string html;  // trusted markup made by the section builders (all file text escaped)
};

struct RunReport {
  std::string dir;
  RunKind kind = RunKind::kUnknown;
  RunState state = RunState::kUnknown;
  std::string state_detail;           // e.g. "held by pid 1234", "result.json written"
  std::vector<std::string> problems;  // missing or unreadable files, in words
  std::vector<Section> sections;
  const Section* find(const std::string& id) const;
};

// True while a process holds the run's lock (a non-blocking shared flock on run.lock fails).
bool run_is_live(const std::string& dir);
// Never throws for a bad folder: what cannot be read becomes a problem on the page.
RunReport build_run_report(const std::string& dir);

struct HtmlOptions {
  int refresh_seconds = 0;   // > 0: a meta refresh (only while watching a live run)
  std::string generated_at;  // shown in the footer when set
};
std::string render_html(const RunReport& report, const HtmlOptions& options = {});

// Writes the page atomically (temp file + rename), so a reloading browser never sees half of it.
void write_report_file(const std::string& path, const std::string& html);

}  // namespace fusenas::nas::report
