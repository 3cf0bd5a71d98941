// nas_report --compare: several black-box searches side by side, read from their config.json and
// trial databases, as one HTML page (incumbent curves, score against parameters, a summary table)
// or the incumbent plot alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/report/run_report.h"
#include "fusenas/nas/report/search_plots.h"

namespace fusenas::nas::report {

// One search as the comparison shows it; plain values, so tests can check them.
struct ComparedSearch {
  std::string dir;   // as given
  std::string name;  // the series' name: the strategy, made unique (see build_compare_report)
  std::string strategy, space, hpo;
  uint64_t seed = 0;
  std::string fidelity;  // "3 epochs on 10000 images of fashion-mnist": what a score is worth
  int64_t trials = 0, done = 0, failed = 0;  // trials: all in the database, whatever their state
  std::optional<double> best_score;          // the incumbent: the best done trial
  int64_t best_trial = 0;
  double best_minutes = 0;  // training minutes spent when the incumbent's trial ended
  std::optional<int64_t> best_params;
  std::string best_text;  // the incumbent's architecture in the space's words (not escaped)
  std::string best_hp;    // its hyperparameters on one line, when the search tunes them
  double minutes = 0;     // wall time of every trial, summed
  std::vector<TrialPoint> points;
};

struct CompareReport {
  std::vector<ComparedSearch> searches;  // the readable ones, in the order given
  // Folders that hold another kind of run (nas_darts, nas_enas, nas_train), in words: the caller
  // refuses those rather than drawing a page that leaves them out.
  std::vector<std::string> refused;
  // What could not be read, each naming its folder; a folder with a problem in its trial database
  // is left out of the plots and the table, the others are still shown.
  std::vector<std::string> problems;
};

// Never throws for a bad folder. Series are named by strategy; searches sharing one add what
// tells them apart (their space and/or hpo mode), else their folder's name.
CompareReport build_compare_report(const std::vector<std::string>& dirs);

std::string render_compare_html(const CompareReport& report, const HtmlOptions& options = {});
// The incumbent against trials and against minutes, one series per search, as a standalone SVG.
std::string compare_incumbent_svg(const CompareReport& report);

}  // namespace fusenas::nas::report
