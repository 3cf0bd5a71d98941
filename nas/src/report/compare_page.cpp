// The page of nas_report --compare: a table with one row per search, the incumbent curves of all
// of them on shared axes and their score-parameter scatter, in the run report's page skeleton.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "fusenas/nas/report/compare_report.h"
#include "fusenas/nas/report/svg_chart.h"
#include "report/html_page.h"
#include "report/search_view.h"

namespace fusenas::nas::report {
namespace {

constexpr size_t kCellChars = 160;  // the incumbent's text in a cell; in full on hover

std::vector<SearchTrials> series(const CompareReport& r) {
  std::vector<SearchTrials> out;
  for (const ComparedSearch& s : r.searches) out.push_back({s.name, s.points});
  return out;
}

std::string num(const std::string& text) {
  return "<td class='num'>" + text + "</td>";
}

std::string text_or_unknown(const std::string& text) {
  return text.empty() ? "?" : escape_xml(text);
}

// The best search; ties go to the first given.
const ComparedSearch* winner(const CompareReport& r) {
  const ComparedSearch* best = nullptr;
  for (const ComparedSearch& s : r.searches) {
    if (s.best_score && (!best || *s.best_score > *best->best_score)) best = &s;
  }
  return best;
}

std::string incumbent_cell(const ComparedSearch& s) {
  if (!s.best_score) return "<td></td>";
  std::string html = "<td class='cand'";
  const std::string cut = shorten(s.best_text, kCellChars);
  if (cut != s.best_text) html += " title='" + escape_xml(s.best_text) + "'";
  html += ">" + escape_xml(cut);
  if (!s.best_hp.empty()) html += "<br>" + escape_xml(s.best_hp);
  return html + "</td>";
}

std::string row(const ComparedSearch& s, bool best) {
  std::string html = best ? "<tr class='best'>" : "<tr>";
  // The folder's name keeps the table narrow; its path as given is on hover.
  html += "<td>" + escape_xml(s.name) + "</td><td title='" + escape_xml(s.dir) + "'>" +
          escape_xml(folder_name(s.dir)) + "</td>";
  html += "<td>" + text_or_unknown(s.strategy) + "</td><td>" + text_or_unknown(s.space) +
          "</td><td>" + text_or_unknown(s.hpo) + "</td>";
  html += num(std::to_string(s.seed)) + num(std::to_string(s.done)) + num(std::to_string(s.failed));
  if (s.best_score) {
    html += num(fmt::format("{:.2f}", *s.best_score)) + num(std::to_string(s.best_trial)) +
            num(fmt::format("{:.1f}", s.best_minutes)) +
            num(s.best_params ? std::to_string(*s.best_params) : "?");
  } else {
    html += "<td colspan='4'>no finished trial</td>";
  }
  html += incumbent_cell(s) + num(fmt::format("{:.1f}", s.minutes));
  return html + "</tr>";
}

std::string table(const CompareReport& r) {
  if (r.searches.empty()) return "<p class='warn'>No search could be read.</p>";
  std::string html =
      "<p>One row per search, in the order given; the best in bold. Training minutes are the "
      "trials' wall times added up.</p><div class='scroll'><table class='compare'><tr>"
      "<th>series</th><th>folder</th><th>strategy</th><th>space</th><th>hpo</th><th>seed</th>"
      "<th>done</th><th>failed</th><th>best (%)</th><th>at trial</th><th>found after (min)</th>"
      "<th>params</th><th>incumbent</th><th>training (min)</th></tr>";
  const ComparedSearch* best = winner(r);
  for (const ComparedSearch& s : r.searches) html += row(s, &s == best);
  html += "</table></div>";
  for (const ComparedSearch& s : r.searches) {
    if (const int64_t other = s.trials - s.done - s.failed; other > 0) {
      html += fmt::format("<p>{} also holds {} trial(s) running, pending or pruned.</p>",
                          escape_xml(folder_name(s.dir)), other);
    }
  }
  // A search-val accuracy after 2 epochs on 4000 images and one after 10 on all are not peers.
  std::set<std::string> fidelities;
  for (const ComparedSearch& s : r.searches) fidelities.insert(s.fidelity);
  if (fidelities.size() > 1) {
    html +=
        "<p class='warn'>The searches score their trials at different fidelities, so their "
        "scores are not directly comparable:</p><ul>";
    for (const ComparedSearch& s : r.searches) {
      html += fmt::format("<li>{}: {}</li>", escape_xml(s.name),
                          s.fidelity.empty() ? "unknown" : escape_xml(s.fidelity));
    }
    html += "</ul>";
  }
  return html;
}

bool any_scored(const CompareReport& r) {
  return std::any_of(r.searches.begin(), r.searches.end(),
                     [](const ComparedSearch& s) { return s.best_score.has_value(); });
}

}  // namespace

std::string compare_incumbent_svg(const CompareReport& report) {
  return svg_incumbent_plot(series(report), kScoreLabel);
}

std::string render_compare_html(const CompareReport& r, const HtmlOptions& options) {
  std::vector<Section> sections;
  sections.push_back({"searches", "Searches", table(r)});
  const bool scored = any_scored(r);
  const std::string none = "<p>No search has a finished trial yet.</p>";
  sections.push_back(
      {"incumbents", "Incumbent curves",
       scored ? "<p>The best score so far of each search after each trial, and over the minutes "
                "its trials took (their wall times added up in trial order). Failed, pruned and "
                "unfinished trials add no point.</p>" +
                    compare_incumbent_svg(r)
              : none});
  sections.push_back({"score-params", "Score against parameters",
                      scored ? svg_score_vs_params(series(r), kScoreLabel) : none});
  std::string folders;
  for (const ComparedSearch& s : r.searches)
    folders += (folders.empty() ? "" : ", ") + escape_xml(folder_name(s.dir));
  const std::string heading = fmt::format("{} black-box search{} compared", r.searches.size(),
                                          r.searches.size() == 1 ? "" : "es");
  const std::string subtitle = "nas_search runs" + (folders.empty() ? "" : ": " + folders);
  return render_page({heading, subtitle, "Problems with these folders", &r.problems, &sections},
                     options);
}

}  // namespace fusenas::nas::report
