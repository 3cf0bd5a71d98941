// Incumbent curves and the score-parameter scatter of black-box searches, drawn with svg_chart.
#include "fusenas/nas/report/search_plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "fusenas/nas/report/svg_chart.h"

namespace fusenas::nas::report {
namespace {

constexpr int kPanelWidth = 480, kPanelHeight = 300;

bool scored(const TrialPoint& t) {
  return t.outcome == TrialOutcome::kDone && t.score && std::isfinite(*t.score);
}

// The running maximum of the scored trials, in the order `before` sorts them.
template <typename Less, typename X>
Curve running_best(const std::vector<TrialPoint>& trials, Less before, X x_of) {
  std::vector<const TrialPoint*> done;
  for (const auto& t : trials) {
    if (scored(t)) done.push_back(&t);
  }
  std::stable_sort(done.begin(), done.end(),
                   [&](const TrialPoint* a, const TrialPoint* b) { return before(*a, *b); });
  Curve c;
  for (const TrialPoint* t : done) {
    c.x.push_back(x_of(*t));
    c.y.push_back(c.y.empty() ? *t->score : std::max(c.y.back(), *t->score));
  }
  return c;
}

// An SVG drawn at (x, y) inside another one.
std::string placed(const std::string& svg, int x, int y) {
  return fmt::format("<g transform='translate({} {})'>{}</g>", x, y, svg);
}

}  // namespace

Curve incumbent_by_trial(const std::vector<TrialPoint>& trials) {
  return running_best(
      trials, [](const TrialPoint& a, const TrialPoint& b) { return a.id < b.id; },
      [](const TrialPoint& t) { return static_cast<double>(t.id); });
}

Curve incumbent_by_minutes(const std::vector<TrialPoint>& trials) {
  return running_best(
      trials,
      [](const TrialPoint& a, const TrialPoint& b) {
        return a.elapsed_seconds != b.elapsed_seconds ? a.elapsed_seconds < b.elapsed_seconds
                                                      : a.id < b.id;
      },
      [](const TrialPoint& t) { return t.elapsed_seconds / 60; });
}

std::string svg_incumbent_plot(const std::vector<SearchTrials>& searches,
                               const std::string& score_label) {
  LineChart by_trial("best " + score_label + " so far", "trial", score_label);
  LineChart by_time("best " + score_label + " so far", "wall-clock time (min)", score_label);
  std::vector<std::string> names;
  for (const auto& s : searches) {
    const Curve a = incumbent_by_trial(s.trials), b = incumbent_by_minutes(s.trials);
    by_trial.series.push_back({s.name, a.x, a.y, false, SeriesStyle::kStep});
    by_time.series.push_back({s.name, b.x, b.y, false, SeriesStyle::kStep});
    names.push_back(s.name);
  }
  for (LineChart* c : {&by_trial, &by_time}) {
    c->width = kPanelWidth;
    c->height = kPanelHeight;
    c->legend = false;  // one legend below both panels
  }
  const int legend_h = svg_legend_height(names, 2 * kPanelWidth);
  const int width = 2 * kPanelWidth, height = kPanelHeight + legend_h;
  return fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {0} {1}' width='{0}' "
      "height='{1}' role='img' font-family='sans-serif' font-size='11'><title>{2}</title>{3}{4}{5}"
      "</svg>",
      width, height, escape_xml("best " + score_label + " so far"),
      placed(svg_line_chart(by_trial), 0, 0), placed(svg_line_chart(by_time), kPanelWidth, 0),
      placed(svg_legend(names, 2 * kPanelWidth), 0, kPanelHeight));
}

std::string svg_score_vs_params(const std::vector<SearchTrials>& searches,
                                const std::string& score_label) {
  LineChart chart(score_label + " against parameters", "parameters", score_label);
  chart.width = 2 * kPanelWidth;
  chart.height = kPanelHeight + 40;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto& s : searches) {
    Series series{s.name, {}, {}, false, SeriesStyle::kPoints};
    for (const auto& t : s.trials) {
      if (!scored(t) || t.params <= 0) continue;
      series.x.push_back(static_cast<double>(t.params));
      series.y.push_back(*t.score);
      lo = std::min(lo, series.x.back());
      hi = std::max(hi, series.x.back());
    }
    chart.series.push_back(std::move(series));
  }
  // Cell and layer spaces span decades of size; a narrow spread reads better on a linear axis.
  chart.log_x = hi > 20 * lo;
  return svg_line_chart(chart);
}

}  // namespace fusenas::nas::report
