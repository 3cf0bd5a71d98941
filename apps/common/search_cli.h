// The command line the searches (nas_darts, nas_enas, nas_search) share: a preset plus overrides
// (the sections' flags bind to them, section_flags.h), the seed, the run flags (device, threads,
// run folder, resume, progress, the stop hook), parsing with one-line errors, and running the
// search with the exit status of its outcome.
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "app_support.h"
#include "cli_checks.h"
#include "fusenas/engine/device.h"
#include "overrides.h"
#include "section_flags.h"

namespace fusenas::apps {

template <typename Config, typename Options>
class SearchCli {
 public:
  SearchCli(std::string name, const std::string& description)
      : app(description), name_(std::move(name)) {
    app.get_formatter()->column_width(34);
    app.failure_message([name = name_](const CLI::App*, const CLI::Error& e) {
      return fmt::format("{}: {} (see --help)\n", name, one_line(e.what()));
    });
    add_version_flag(app, name_);
  }

  // The last --preset wins, so ./run.sh's default can be overridden by its arguments.
  void add_preset(const std::string& help) {
    app.add_option("--preset", preset, help)
        ->check(CLI::IsMember({"quick", "paper"}))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }

  // --seed (the data flags are the data section's: section_flags.h).
  void add_seed(const std::string& help) {
    ov.add(app, "--seed", &Config::seed, help)->check(seed_check());
  }

  // --device, --threads, --out, --resume, --no-progress and the hidden --stop-after-steps.
  void add_run_flags() {
    // The last --device wins, so ./run.sh's default can be overridden by its arguments.
    app.add_option("--device", options.device, "cpu, cuda, cuda:N or auto (CUDA when available)")
        ->capture_default_str()
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--threads", options.threads, "CPU threads; 0 = all cores")
        ->capture_default_str()
        ->check(int_range_check(0, 1 << 16));
    app.add_option("--out", options.out_dir,
                   fmt::format("Run folder [default: runs/{}-<time>]", kind()));
    resume_opt_ = app.add_option("--resume", resume_dir,
                                 "Continue the search in this folder with its saved config "
                                 "(only --device and --threads may change)");
    app.add_flag("!--no-progress", options.progress, "No progress bar");
    app.add_option("--stop-after-steps", options.stop_after_steps,
                   "Checkpoint and stop after this many steps in all (as on Ctrl-C); 0 = never")
        ->group("");  // a test hook, hidden from --help
  }

  // --composed-cells (DARTS and ENAS micro supernets).
  void add_cell_flag() {
    app.add_flag("--composed-cells", options.composed_cells,
                 "Run search cells op by op instead of the fused darts_cell op (a check: same "
                 "results up to rounding, slower)");
  }

  // --eager (DARTS: CUDA steps without graph replay).
  void add_eager_flag() {
    app.add_flag("--eager", options.eager,
                 "On CUDA, run every search step eagerly instead of replaying it as a captured "
                 "CUDA graph (a check: same results)");
  }

  // A search flag outside the overrides (counted when checking --resume).
  CLI::Option* track(CLI::Option* opt) {
    extra_.push_back(opt);
    return opt;
  }

  // Parses argv; returns the exit status when main should stop (help, bad flags, search flags
  // with --resume), nothing to go on.
  std::optional<int> parse(int argc, char** argv) {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
    if (resume_opt_ != nullptr && resume_opt_->count() > 0 && resume_dir.empty()) {
      // An unset shell variable must not quietly start a new default search.
      fmt::print(stderr, "{}: --resume needs a run folder, got an empty path\n", name_);
      return 2;
    }
    options.threads = usable_threads(options.threads, name_);
    options.invocation = invocation_line(name_, argc, argv);
    bool search_flags = ov.any() || !preset.empty();
    for (const CLI::Option* opt : extra_) search_flags = search_flags || opt->count() > 0;
    if (!resume_dir.empty() && search_flags) {
      fmt::print(stderr,
                 "{}: search flags cannot be combined with --resume (the run keeps its saved "
                 "config; only --device and --threads may change)\n",
                 name_);
      return 2;
    }
    return std::nullopt;
  }

  // The preset given, or paper on a CUDA device and quick otherwise.
  std::string chosen_preset() const {
    if (!preset.empty()) return preset;
    const bool gpu =
        options.device == "auto" ? cuda_available() : options.device.rfind("cuda", 0) == 0;
    return gpu ? "paper" : "quick";
  }

  // The flags given, over a preset's values.
  void apply(Config& c) const { ov.apply(c); }

  // Runs `search` (returning a result with `finished`): 0 when finished, 130 when stopped by a
  // signal, 1 with one line on stderr for any error.
  template <typename F>
  int run(F&& search) const {
    try {
      const auto result = search();
      if (!result.finished) return kStoppedExit;
      // The page that shows the run (docs/cli.md, nas_report).
      fmt::print("report: nas_report {}\n", result.run_dir);
      return 0;
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: {}\n", name_, one_line(e.what()));
      return 1;
    }
  }

  CLI::App app;
  Overrides<Config> ov;
  Options options;
  std::string preset, resume_dir;

 private:
  std::string kind() const { return name_.substr(name_.find('_') + 1); }

  std::string name_;
  CLI::Option* resume_opt_ = nullptr;
  std::vector<const CLI::Option*> extra_;
};

}  // namespace fusenas::apps
