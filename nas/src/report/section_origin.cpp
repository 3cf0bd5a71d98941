// The overview's origin rows: version, command line and machine from the invocation lines that
// the apps write to the run's log at every start and resume (apps/common/cli_checks.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

constexpr size_t kResumesShown = 5;

struct Invocation {
  std::string time, version, host, cpu, command;
};

// "<date> <time> <app> <version> (git <commit>)[; host: H][; cpu: M]; command: <argv>". The
// command comes last because it may hold any text; lines from before the machine was recorded
// have no host or cpu.
std::optional<Invocation> parse_invocation(const std::string& line) {
  static const std::string kCommand = "; command: ";
  const auto at = line.find(kCommand);
  if (at == std::string::npos) return std::nullopt;
  Invocation inv;
  inv.command = line.substr(at + kCommand.size());
  std::string head = line.substr(0, at);
  if (head.size() > 20 && head[4] == '-' && head[13] == ':' && head[19] == ' ') {
    inv.time = head.substr(0, 19);
    head.erase(0, 20);
  }
  size_t start = 0;
  for (bool first = true;; first = false) {
    const auto end = head.find("; ", start);
    const std::string part = head.substr(start, end == std::string::npos ? end : end - start);
    if (first) {
      // Anything else that happens to say "; command: " is not an invocation.
      if (part.empty() || part.back() != ')' || part.find(" (git ") == std::string::npos)
        return std::nullopt;
      inv.version = part;
    } else if (part.rfind("host: ", 0) == 0) {
      inv.host = part.substr(6);
    } else if (part.rfind("cpu: ", 0) == 0) {
      inv.cpu = part.substr(5);
    }
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return inv;
}

std::string machine_text(const Invocation& inv) {
  if (inv.host.empty() && inv.cpu.empty()) return "";
  std::string out = inv.host.empty() ? "" : "host " + inv.host;
  if (!inv.cpu.empty()) out += (out.empty() ? "CPU " : ", CPU ") + inv.cpu;
  return out;
}

std::string resume_text(const Invocation& inv, const Invocation& first) {
  std::string out = escape_xml(inv.time.empty() ? "?" : inv.time) + ": <code>" +
                    escape_xml(inv.command) + "</code>";
  if (const std::string m = machine_text(inv); !m.empty()) out += " on " + escape_xml(m);
  if (inv.version != first.version) out += " with " + escape_xml(inv.version);
  return out;
}

}  // namespace

bool is_invocation_line(const std::string& line) {
  return parse_invocation(line).has_value();
}

std::string origin_rows(const std::string& log) {
  std::vector<Invocation> all;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (auto inv = parse_invocation(line)) all.push_back(std::move(*inv));
  if (all.empty()) {
    return "<tr><th>command</th><td>not in the log (runs from before the invocation line "
           "did not record the command, version or machine)</td></tr>";
  }
  const Invocation& first = all.front();
  std::string html = fmt::format("<tr><th>version</th><td>{}</td></tr>", escape_xml(first.version));
  html +=
      fmt::format("<tr><th>command</th><td><code>{}</code></td></tr>", escape_xml(first.command));
  const std::string machine = machine_text(first);
  html += fmt::format("<tr><th>machine</th><td>{}</td></tr>",
                      machine.empty() ? "not recorded (a run from before the machine was logged)"
                                      : escape_xml(machine));
  if (!first.time.empty())
    html += fmt::format("<tr><th>started</th><td>{}</td></tr>", escape_xml(first.time));
  if (all.size() > 1) {
    const size_t resumes = all.size() - 1;
    std::string list;
    const size_t from = all.size() - std::min(resumes, kResumesShown);
    if (from > 1) list += fmt::format("({} earlier ones left out)<br>", from - 1);
    for (size_t i = from; i < all.size(); ++i)
      list += resume_text(all[i], first) + (i + 1 < all.size() ? "<br>" : "");
    html += fmt::format("<tr><th>resumed</th><td>{} time{}:<br>{}</td></tr>", resumes,
                        resumes == 1 ? "" : "s", list);
  }
  return html;
}

}  // namespace fusenas::nas::report
