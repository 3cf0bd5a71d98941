// The charts of a black-box search, drawn from the trial database rather than copied from the
// run folder's SVG files: the incumbent over trials and minutes, score against parameters with
// the Pareto front, and the learning curves of the best (and the running) trials.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "report/search_view.h"
#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

constexpr size_t kCurveTrials = 5;    // the best ones; more lines would not tell apart
constexpr size_t kRunningCurves = 3;  // a live search's trials in progress
constexpr size_t kFrontListed = 20;

std::string strategy_name(const TrialStore& store) {
  return store.identity.strategy.empty() ? "trials" : store.identity.strategy;
}

// Every scored trial as a point, and the front as the staircase of the best score reachable
// with at most so many parameters.
std::string score_vs_params(const TrialStore& store) {
  LineChart chart(std::string(kScoreLabel) + " against parameters", "parameters", kScoreLabel);
  chart.width = 960;
  chart.height = 340;
  Series all{strategy_name(store), {}, {}, false, SeriesStyle::kPoints};
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const Trial* t : ranked_done(store.trials)) {
    if (!t->params || *t->params <= 0) continue;
    all.x.push_back(static_cast<double>(*t->params));
    all.y.push_back(*t->score);
    lo = std::min(lo, all.x.back());
    hi = std::max(hi, all.x.back());
  }
  if (all.x.empty()) return "<p>No finished trial has a parameter count.</p>";
  const std::vector<const Trial*> front = pareto_front(store.trials);
  Series line{"Pareto front", {}, {}, false, SeriesStyle::kStep};
  std::string listed;
  for (size_t i = 0; i < front.size(); ++i) {
    line.x.push_back(static_cast<double>(*front[i]->params));
    line.y.push_back(*front[i]->score);
    if (i < kFrontListed) {
      listed += fmt::format("{}trial {} ({} parameters, {:.2f}%)", i == 0 ? "" : "; ", front[i]->id,
                            *front[i]->params, *front[i]->score);
    }
  }
  if (front.size() > kFrontListed) listed += fmt::format("; {} more", front.size() - kFrontListed);
  chart.series = {std::move(all), std::move(line)};
  // Spaces span decades of size; a narrow spread reads better on a linear axis (as nas_search's
  // accuracy_vs_params.svg).
  chart.log_x = hi > 20 * lo;
  return svg_line_chart(chart) +
         "<p>Pareto front (no other trial scores higher with at most as many parameters): " +
         listed + ".</p>";
}

}  // namespace

void add_search_plots(RunFiles& files, RunReport& report) {
  const auto& store = files.trial_store();
  std::string html;
  if (!store) {
    html = "<p class='warn'>No plots: trials.sqlite is missing or unreadable.</p>";
  } else if (ranked_done(store->trials).empty()) {
    html = "<p>No trial has finished yet.</p>";
  } else {
    html =
        "<p>The best score so far after each trial, and over the minutes the trials took (their "
        "wall times added up in trial order). Failed, pruned and unfinished trials add no "
        "point.</p>";
    html += svg_incumbent_plot({{strategy_name(*store), trial_points(store->trials)}}, kScoreLabel);
    html += score_vs_params(*store);
  }
  report.sections.push_back({"search", "Search progress", html});
}

void add_trial_curves(RunFiles& files, RunReport& report) {
  const auto& store = files.trial_store();
  std::vector<std::pair<const Trial*, std::string>> shown;
  if (store) {
    for (const Trial* t : ranked_done(store->trials)) {
      if (shown.size() == kCurveTrials) break;
      if (!t->curve.empty())
        shown.emplace_back(t, fmt::format("trial {} ({:.2f}%)", t->id, *t->score));
    }
    size_t running = 0;
    for (const Trial& t : store->trials) {
      if (t.status != TrialStatus::kRunning || t.curve.empty() || running == kRunningCurves)
        continue;
      shown.emplace_back(&t, fmt::format("trial {} (running)", t.id));
      ++running;
    }
  }
  LineChart acc("Search-val accuracy per epoch", "epoch", "accuracy (%)");
  LineChart loss("Search-val loss per epoch", "epoch", "cross-entropy loss");
  for (const auto& [t, name] : shown) {
    acc.series.push_back(metric_series(t->curve, "epoch", "val_acc", name));
    loss.series.push_back(metric_series(t->curve, "epoch", "val_loss", name));
  }
  const auto drawn = [](const LineChart& c) {
    return std::any_of(c.series.begin(), c.series.end(),
                       [](const Series& s) { return !s.x.empty(); });
  };
  std::string html;
  if (drawn(acc)) html += svg_line_chart(acc);
  if (drawn(loss)) html += svg_line_chart(loss);
  if (html.empty()) {
    html = "<p>No learning curves yet: a trial stores one row per finished epoch.</p>";
  } else {
    html = fmt::format(
               "<p>Each trial trains from scratch; these are the {} best finished trials and those "
               "running now, one point per epoch.</p>",
               kCurveTrials) +
           html;
  }
  report.sections.push_back({"trial-curves", "Learning curves of the best trials", html});
}

}  // namespace fusenas::nas::report
