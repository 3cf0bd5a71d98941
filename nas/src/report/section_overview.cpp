// The report's overview (kind, state, progress, the log's header), config and result sections.
#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

// The searches log to search.log, nas_train to train.log.
std::string log_name(const RunFiles& files, RunKind kind) {
  if (kind == RunKind::kTrain) return "train.log";
  if (kind == RunKind::kUnknown && !files.exists("search.log")) return "train.log";
  return "search.log";
}

std::string epoch_rows(RunFiles& files) {
  const auto& metrics = files.jsonl("metrics.jsonl", false);
  const auto& config = files.json_file("config.json", true);
  std::string of;
  if (config) {
    if (auto e = number(*config, "epochs")) of = fmt::format(" of {:g}", *e);
  }
  const double done =
      metrics.empty() ? 0 : number(metrics.back(), "epoch").value_or(double(metrics.size()));
  std::string html = fmt::format("<tr><th>epochs finished</th><td>{:g}{}</td></tr>", done, of);
  double seconds = 0;
  for (const auto& m : metrics) seconds += number(m, "seconds").value_or(0);
  if (seconds > 0)
    html += fmt::format("<tr><th>time in epochs</th><td>{:.1f} s</td></tr>", seconds);
  return html;
}

}  // namespace

std::string cell_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{:g}", value.get<double>());
  return value.dump();
}

std::string key_value_table(const nlohmann::json& object) {
  std::string out = "<table class='kv'>";
  for (const auto& [key, value] : object.items()) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", escape_xml(key),
                       escape_xml(cell_text(value)));
  }
  return out + "</table>";
}

void add_overview(RunFiles& files, RunReport& report) {
  std::string html = "<table class='kv'>";
  html += fmt::format("<tr><th>folder</th><td><code>{}</code></td></tr>", escape_xml(files.dir()));
  html += fmt::format("<tr><th>kind</th><td>{}</td></tr>", to_string(report.kind));
  html +=
      fmt::format("<tr><th>state</th><td><span class='state state-{0}'>{0}</span> {1}</td></tr>",
                  to_string(report.state), escape_xml(report.state_detail));
  // The whole log, for the invocation line of every start and resume.
  const std::string log = log_name(files, report.kind);
  const auto text = files.text(log, 16 << 20);
  if (text) html += origin_rows(*text);
  if (report.kind == RunKind::kSearch) {
    // A search counts trials, and config.json's epochs are each trial's.
    html += search_overview_rows(files) + "</table>" + search_incumbent(files);
  } else {
    html += epoch_rows(files) + "</table>";
  }
  // The log's first lines after the invocation name the app, the data, the device and threads.
  if (text) {
    std::istringstream in(*text);
    std::string line, head;
    for (int i = 0; i < 3 && std::getline(in, line);) {
      if (is_invocation_line(line)) continue;
      head += line + "\n";
      ++i;
    }
    html += fmt::format(
        "<p>Start of <code>{}</code> (app, data, device, threads):</p><pre class='wrap'>{}</pre>",
        log, escape_xml(head));
    if (report.kind != RunKind::kSearch && text->find("diverged") != std::string::npos)
      html += "<p class='warn'>The log reports a divergence.</p>";
  } else {
    files.problem(
        fmt::format("{} is missing (no log header: app, device and threads unknown)", log));
  }
  report.sections.push_back({"overview", "Run", html});
}

void add_config(RunFiles& files, RunReport& report) {
  const auto& config = files.json_file("config.json", false);
  const std::string html = config ? key_value_table(*config)
                                  : "<p class='warn'>config.json is missing or unreadable.</p>";
  report.sections.push_back({"config", "Configuration", html});
}

void add_result(RunFiles& files, RunReport& report) {
  const auto& result = files.json_file("result.json", false);
  std::string html;
  if (!result) {
    html = report.state == RunState::kFinished
               ? "<p class='warn'>result.json is unreadable.</p>"
               : "<p>No result yet: result.json is written when the run finishes.</p>";
  } else {
    // The numbers people look for first, then every field.
    html += "<p class='headline'>";
    if (auto acc = number(*result, "test_acc")) html += fmt::format("test accuracy {:.2f}% ", *acc);
    if (auto acc = number(*result, "val_acc"))
      html += fmt::format("search-val accuracy {:.2f}% ", *acc);
    if (auto acc = number(*result, "derive_acc"))
      html += fmt::format("derivation accuracy {:.2f}% ", *acc);
    if (auto p = number(*result, "params"))
      html += fmt::format("parameters {:.0f} ({:.3f} M)", *p, *p / 1e6);
    html += "</p>";
    nlohmann::json shown = nlohmann::json::object();
    for (const auto& [k, v] : result->items())
      if (k != "arch") shown[k] = v;  // drawn in the architecture section
    html += key_value_table(shown);
  }
  report.sections.push_back({"result", "Result", html});
}

}  // namespace fusenas::nas::report
