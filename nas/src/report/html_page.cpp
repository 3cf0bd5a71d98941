// The page skeleton every nas_report page shares (see html_page.h): the inline CSS lives here.
#include "report/html_page.h"

#include <fmt/format.h>

#include <filesystem>

#include "fusenas/nas/report/svg_chart.h"

namespace fusenas::nas::report {
namespace {

constexpr const char* kCss = R"(
body{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:0 12px;color:#222;
 line-height:1.4}
h1{font-size:1.5em;margin:.6em 0 .2em}h2{border-bottom:1px solid #ccc;margin-top:1.4em}
h3{font-size:1em;margin:.8em 0 .3em}
nav a{margin-right:.8em}
table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
table.kv th{background:#f4f4f4;font-weight:normal}
td{word-break:break-word}
pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:.85em}
pre.wrap{white-space:pre-wrap;word-break:break-all}
svg{max-width:100%;height:auto}
.multiples{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.cell-drawing svg{max-height:420px}
.state{padding:1px 6px;border-radius:3px;color:#fff;background:#777}
.state-running{background:#0072B2}.state-finished{background:#009E73}
.state-stopped{background:#E69F00}.state-diverged{background:#D55E00}
.warn,#problems li{color:#a33}
.headline{font-size:1.15em;font-weight:bold}
.scroll{overflow-x:auto}
table.trials td.cand{font-family:monospace;font-size:.85em}
table.trials td:nth-child(-n+7){white-space:nowrap}
table.compare td{word-break:normal}
table.compare td.cand{font-family:monospace;font-size:.85em;word-break:break-word}
tr.best td{font-weight:bold}tr.trial-failed td,tr.trial-pruned td{color:#a33}
td.num{text-align:right;white-space:nowrap}
table.sorting th{cursor:pointer}
th[aria-sort=ascending]::after{content:" \25b2"}
th[aria-sort=descending]::after{content:" \25bc"}
footer{color:#777;font-size:.8em;margin:2em 0 1em}
@media (max-width:600px){body{padding:0 6px;font-size:15px}nav{display:none}}
@media print{nav,footer{display:none}body{max-width:none}section{break-inside:avoid-page}
 svg{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}}
)";

}  // namespace

std::string folder_name(const std::string& dir) {
  const auto path = std::filesystem::path(dir).lexically_normal();
  std::string name = path.filename().string();
  if (name.empty()) name = path.parent_path().filename().string();
  return name.empty() ? dir : name;
}

std::string render_page(const PageParts& parts, const HtmlOptions& options,
                        const std::string& script) {
  static const std::vector<std::string> kNone;
  static const std::vector<Section> kNoSections;
  const std::vector<std::string>& problems = parts.problems ? *parts.problems : kNone;
  const std::vector<Section>& sections = parts.sections ? *parts.sections : kNoSections;
  std::string out = "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>";
  out += "<meta name='viewport' content='width=device-width, initial-scale=1'>";
  if (options.refresh_seconds > 0)
    out += fmt::format("<meta http-equiv='refresh' content='{}'>", options.refresh_seconds);
  out += fmt::format("<title>{} - FuseNAS run report</title><style>{}</style></head><body>",
                     escape_xml(parts.heading), kCss);
  out += fmt::format("<header><h1>{}</h1><p>{}</p></header><nav>", escape_xml(parts.heading),
                     parts.subtitle_html);
  if (!problems.empty()) out += "<a href='#problems'>problems</a>";
  for (const auto& s : sections)
    out += fmt::format("<a href='#{}'>{}</a>", s.id, escape_xml(s.title));
  out += "</nav>";
  if (!problems.empty()) {
    out += fmt::format("<section id='problems'><h2>{}</h2><ul>", escape_xml(parts.problems_title));
    for (const auto& p : problems) out += "<li>" + escape_xml(p) + "</li>";
    out += "</ul></section>";
  }
  for (const auto& s : sections) {
    out +=
        fmt::format("<section id='{}'><h2>{}</h2>{}</section>", s.id, escape_xml(s.title), s.html);
  }
  out += "<footer>Written by nas_report";
  if (!options.generated_at.empty()) out += " at " + escape_xml(options.generated_at);
  out += ".</footer>";
  if (!script.empty()) out += "<script>" + script + "</script>";
  out += "</body></html>\n";
  return out;
}

}  // namespace fusenas::nas::report
