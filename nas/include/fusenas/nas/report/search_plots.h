// The plots of black-box searches: the incumbent (best score so far) against trials and against
// wall-clock minutes, and score against parameter count, one series per search (strategy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fusenas::nas::report {

// Plain data, so the plots need neither the trial database nor a search to draw.
enum class TrialOutcome { kDone, kFailed, kPruned, kUnfinished };

struct TrialPoint {
  int64_t id = 0;               // creation order, from 1
  double elapsed_seconds = 0;   // from the search's start to the trial's end
  std::optional<double> score;  // higher is better
  int64_t params = 0;
  TrialOutcome outcome = TrialOutcome::kDone;
};

struct SearchTrials {
  std::string name;  // what the legend calls it: the strategy
  std::vector<TrialPoint> trials;
};

struct Curve {
  std::vector<double> x, y;
};

// The best score so far after each done trial with a finite score, in id order (x: the id). Failed,
// pruned (scored at a lower fidelity than the rest) and unfinished trials add no point.
Curve incumbent_by_trial(const std::vector<TrialPoint>& trials);
// The same in the order trials ended (x: elapsed minutes), which differs from id order when several
// trials run at once.
Curve incumbent_by_minutes(const std::vector<TrialPoint>& trials);

// One SVG: the incumbent against trial number and against minutes, side by side, one step series
// per search and one legend. `score_label` names the score with its unit, e.g. "accuracy (%)".
std::string svg_incumbent_plot(const std::vector<SearchTrials>& searches,
                               const std::string& score_label);
// Score against parameter count for the done trials, one colour per search; the x axis is
// logarithmic when the counts span more than a factor of 20.
std::string svg_score_vs_params(const std::vector<SearchTrials>& searches,
                                const std::string& score_label);

}  // namespace fusenas::nas::report
