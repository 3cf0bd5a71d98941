// What the report's search sections share about trials: counts by status, the ranking, the Pareto
// front, the plots' points and one-line texts of a trial's hyperparameters and candidate.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/report/search_plots.h"
#include "fusenas/nas/run/trial_db.h"

namespace fusenas::nas::report {

// nas_search ranks trials by their search-val accuracy after the last epoch.
inline constexpr const char* kScoreLabel = "search-val accuracy (%)";

struct TrialCounts {
  int64_t done = 0, failed = 0, running = 0, pending = 0, pruned = 0;
};
TrialCounts count_trials(const std::vector<Trial>& trials);

// Done trials with a finite score, best first; ties go to the earlier trial, as in nas_search.
std::vector<const Trial*> ranked_done(const std::vector<Trial>& trials);
// The ranked trials that no other beats with at most as many parameters, fewest parameters first
// (trials without a parameter count are left out).
std::vector<const Trial*> pareto_front(const std::vector<Trial>& trials);
// The search plots' points. A trial's time is the wall time of the trials up to it in id order,
// as nas_search draws incumbent.svg, so the page and that file agree.
std::vector<TrialPoint> trial_points(const std::vector<Trial>& trials);

// "batch_size 96, lr 0.05, ...": a hyperparameter object on one line (not escaped).
std::string hp_text(const nlohmann::json& hp);
// The candidate's one-line text when its metrics store one ("text"), else its JSON; cut to about
// max_chars (not escaped).
std::string candidate_text(const Trial& t, size_t max_chars);
// Text cut to at most max_chars bytes at a UTF-8 boundary, with an ellipsis when cut.
std::string shorten(const std::string& text, size_t max_chars);

}  // namespace fusenas::nas::report
