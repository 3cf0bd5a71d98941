// nas_report: turns a run folder of nas_darts, nas_enas, nas_train or nas_search into one
// self-contained HTML page; --watch rewrites it while the run is live; --compare sets several
// black-box searches side by side; --rank scores estimators against a fully trained reference.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/app_support.h"
#include "../common/cli_checks.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/report/compare_report.h"
#include "fusenas/nas/report/rank_report.h"
#include "fusenas/nas/report/run_report.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

std::string now_text() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::localtime(now));
}

void write_page(const std::string& dir, const std::string& out, int refresh_seconds) {
  using namespace fusenas::nas::report;
  const RunReport report = build_run_report(dir);
  write_report_file(out, render_html(report, {refresh_seconds, now_text()}));
}

// Exit status as main's: 2 for a comparison that cannot be asked for (refused before any page).
int write_comparison(const std::vector<std::string>& dirs, std::string out) {
  using namespace fusenas::nas::report;
  const CompareReport report = build_compare_report(dirs);
  if (!report.refused.empty()) {
    std::string refused;
    for (const auto& r : report.refused) refused += (refused.empty() ? "" : "; ") + r;
    fmt::print(stderr, "nas_report: --compare takes nas_search folders only: {}\n", refused);
    return 2;
  }
  std::string problems;
  for (const auto& p : report.problems) problems += (problems.empty() ? "" : "; ") + p;
  FUSENAS_CHECK(!report.searches.empty(), "none of the {} folders holds a readable search: {}",
                dirs.size(), problems);
  // The page lists them too; an SVG has no room for them.
  for (const auto& p : report.problems)
    fmt::print(stderr, "nas_report: {}\n", fusenas::apps::one_line(p));
  if (out.empty()) out = "compare.html";
  const bool svg = out.size() >= 4 && out.compare(out.size() - 4, 4, ".svg") == 0;
  write_report_file(out, svg ? compare_incumbent_svg(report) + "\n"
                             : render_compare_html(report, {0, now_text()}));
  fmt::print("report: {}\n", out);
  return 0;
}

// --rank: the first folder is the reference. The table goes to stdout and to `out` (default
// <first run>/rank.md), the numbers beside it as JSON (rank.json for rank.md).
int write_rank(const std::vector<std::string>& dirs, std::string out) {
  using namespace fusenas::nas::report;
  const std::vector<std::string> runs(dirs.begin() + 1, dirs.end());
  const RankReport report = build_rank_report(dirs.front(), runs);
  const std::string table = rank_markdown(report);
  if (out.empty())
    out = (std::filesystem::path(runs.empty() ? dirs.front() : runs.front()) / "rank.md").string();
  const std::string json_out = std::filesystem::path(out).replace_extension(".json").string();
  FUSENAS_CHECK(json_out != out, "--out {} would be overwritten by the JSON; give it a .md name",
                out);
  write_report_file(out, table);
  write_report_file(json_out, to_json(report).dump(2) + "\n");
  fmt::print("{}\nreport: {} and {}\n", table, out, json_out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fusenas;
  CLI::App app{
      "nas_report: writes one self-contained HTML page (inline SVG charts, no network) about a "
      "run folder of nas_darts, nas_enas, nas_train or nas_search: config, state, curves, cells, "
      "alphas, controller statistics, result; for a black-box search the incumbent, its curves "
      "over trials and minutes, accuracy against parameters, the trial table and the best "
      "trials' learning curves. A half-written folder still gives a page that names what is "
      "missing. --compare sets several searches side by side."};
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("nas_report: {} (see --help)\n", apps::one_line(e.what()));
  });
  std::string dir, out;
  std::vector<std::string> compare_dirs, rank_dirs;
  bool watch = false;
  int interval = 5;
  app.add_option("run_dir", dir, "The run folder");
  app.add_option("--compare", compare_dirs,
                 "Instead of RUN_DIR: two or more nas_search folders on one page (incumbent "
                 "curves by trial and by minutes, score against parameters, a table of the "
                 "searches)")
      ->expected(0, CLI::detail::expected_max_vector_size)
      ->type_name("DIR");
  app.add_option("--rank", rank_dirs,
                 "Instead of RUN_DIR: a fully trained reference search, then the searches that "
                 "scored the same candidates more cheaply (e.g. --strategy reference); a markdown "
                 "table of Kendall tau, Spearman rho, top-5 recall and cost per run, plus the "
                 "reference's own curves truncated at epochs 1, 2, 3, 5 and extrapolated from 3 "
                 "and 5")
      ->expected(0, CLI::detail::expected_max_vector_size)
      ->type_name("DIR");
  app.add_option("--out", out,
                 "The page to write [default: RUN_DIR/report.html; with --compare compare.html, "
                 "or with a .svg name the incumbent plot alone; with --rank the first run's "
                 "rank.md, with rank.json beside it]");
  app.add_flag("--watch", watch,
               "Rewrite the page every --interval seconds while the run is live (the page then "
               "reloads itself); exits when the run ends or on Ctrl-C");
  app.add_option("--interval", interval, "Seconds between rewrites with --watch")
      ->check(apps::int_range_check(1, 3600));
  apps::add_version_flag(app, "nas_report");
  app.footer(
      "Examples:\n"
      "  nas_report runs/darts-20260101-120000            # writes .../report.html\n"
      "  nas_report runs/enas-20260101-120000 --watch     # live page beside a search\n"
      "  nas_report runs/search-20260101-120000           # trials from trials.sqlite\n"
      "  nas_report --compare runs/search-a runs/search-b # writes ./compare.html\n"
      "  nas_report --rank runs/ref runs/low-fidelity     # writes .../low-fidelity/rank.md\n"
      "Exit status: 0 page written, 1 error (no page), 2 bad flags (and --compare given a "
      "folder that holds no black-box search but another kind of run).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const bool comparing = app.count("--compare") > 0;
  const bool ranking = app.count("--rank") > 0;
  // A bare --compare (or --rank) leaves one empty value behind.
  std::erase(compare_dirs, std::string());
  std::erase(rank_dirs, std::string());
  if (ranking && (comparing || watch || !dir.empty())) {
    fmt::print(stderr,
               "nas_report: --rank takes every folder after it and no --compare, --watch "
               "or run_dir\n");
    return 2;
  }
  if (ranking && rank_dirs.empty()) {
    fmt::print(stderr, "nas_report: --rank needs a reference search folder, then the runs\n");
    return 2;
  }
  if (comparing && watch) {
    fmt::print(stderr, "nas_report: --compare cannot be combined with --watch\n");
    return 2;
  }
  if (comparing && !dir.empty()) {
    fmt::print(stderr, "nas_report: give every folder after --compare, not {} before it\n", dir);
    return 2;
  }
  if (comparing && compare_dirs.size() < 2) {
    fmt::print(stderr, "nas_report: --compare needs at least two search folders, got {}\n",
               compare_dirs.size());
    return 2;
  }
  if (!comparing && !ranking && dir.empty()) {
    fmt::print(stderr, "nas_report: run_dir is required (see --help)\n");
    return 2;
  }
  try {
    if (comparing) return write_comparison(compare_dirs, out);
    if (ranking) return write_rank(rank_dirs, out);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) FUSENAS_FAIL("{} is not a folder", dir);
    if (out.empty()) out = (std::filesystem::path(dir) / "report.html").string();
    if (!watch) {
      write_page(dir, out, 0);
      fmt::print("report: {}\n", out);
      return 0;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    fmt::print("report: {} (rewritten every {} s while the run is live; Ctrl-C stops)\n", out,
               interval);
    std::fflush(stdout);
    while (!g_stop && nas::report::run_is_live(dir)) {
      write_page(dir, out, interval);
      for (int i = 0; i < interval * 10 && !g_stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // The last page does not reload: the run is over (or nobody watches any more).
    write_page(dir, out, 0);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_report: {}\n", apps::one_line(e.what()));
    return 1;
  }
}
