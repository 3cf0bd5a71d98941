// The report's section builders, one per concern; build_run_report picks them by the run's kind.
// Each reads through RunFiles (which records what is missing) and appends to the report.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fusenas/nas/report/run_report.h"
#include "fusenas/nas/report/svg_chart.h"
#include "report/run_files.h"

namespace fusenas::nas::report {

// The kind of run a folder holds: its checkpoint's format, else the files it has.
RunKind detect_kind(RunFiles& files);

void add_overview(RunFiles& files, RunReport& report);  // state, log header, progress
// The overview's rows about where the run comes from, read from its log's invocation lines:
// version, command, machine, start time and resumes; old logs without them get a row saying so.
std::string origin_rows(const std::string& log);
bool is_invocation_line(const std::string& line);
void add_config(RunFiles& files, RunReport& report);        // config.json as a table
void add_result(RunFiles& files, RunReport& report);        // result.json as a table
void add_curves(RunFiles& files, RunReport& report);        // loss/accuracy with the lr
void add_architecture(RunFiles& files, RunReport& report);  // genotype and the drawn cells
void add_alphas(RunFiles& files, RunReport& report);        // DARTS: softmax(alpha) per edge
void add_controller(RunFiles& files, RunReport& report);    // ENAS: reward, baseline, entropy
void add_sampled(RunFiles& files, RunReport& report);       // ENAS: op and skip distributions

// Black-box searches (nas_search): trials come from trials.sqlite (RunFiles::trial_store).
std::string search_overview_rows(RunFiles& files);          // strategy, space, budget, counts
std::string search_incumbent(RunFiles& files);              // the incumbent under the overview
void add_search_plots(RunFiles& files, RunReport& report);  // incumbent curves, Pareto scatter
void add_trials(RunFiles& files, RunReport& report);        // the trial table, capped
void add_trial_curves(RunFiles& files, RunReport& report);  // the best trials' learning curves
// The inline script that sorts the trial table by a clicked column; search pages only.
const char* trial_sort_script();

// A line series of metrics rows: x from `x_key`, y from `y_key`; rows lacking either are skipped.
Series metric_series(const std::vector<nlohmann::json>& rows, const char* x_key, const char* y_key,
                     std::string name, bool right_axis = false);
// A JSON value as short text for a table cell (strings unquoted, numbers as %g).
std::string cell_text(const nlohmann::json& value);
// A two-column table of an object's fields.
std::string key_value_table(const nlohmann::json& object);

}  // namespace fusenas::nas::report
