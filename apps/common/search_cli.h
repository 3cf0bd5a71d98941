// The command line nas_darts and nas_enas share: a preset plus overrides, the data flags, the run
// flags (device, threads, run folder, resume, progress, the stop hook), parsing with one-line
// errors, and running the search with the exit status of its outcome.
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "app_support.h"
#include "cli_checks.h"
#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/device.h"
#include "overrides.h"

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

  // --dataset, --data-dir, --train-subset, --train-portion.
  void add_data_flags(const std::string& portion_help) {
    ov.add(app, "--dataset", &Config::dataset, "fashion-mnist or cifar10")
        ->check(CLI::IsMember({"fashion-mnist", "cifar10"}));
    ov.add(app, "--data-dir", &Config::data_dir,
           fmt::format("Dataset folder [default: {} or {}]", data::kFashionMnistDir,
                       data::kCifar10Dir));
    ov.add(app, "--train-subset", &Config::train_subset,
           "Use the first N training images before the split; 0 = all");
    ov.add(app, "--train-portion", &Config::train_portion, portion_help);
  }

  // --crop-padding, --flip/--no-flip, --seed.
  void add_augmentation_and_seed(const std::string& seed_help) {
    ov.add(app, "--crop-padding", &Config::crop_padding,
           "Random-crop padding [default: 0 fashion-mnist, 4 cifar10]");
    flip_opt_ = app.add_flag("--flip,!--no-flip", flip_,
                             "Random horizontal flips [default: off fashion-mnist, on cifar10]");
    extra_.push_back(flip_opt_);
    ov.add(app, "--seed", &Config::seed, seed_help)->check(seed_check());
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
  void apply(Config& c) const {
    ov.apply(c);
    if (flip_opt_ != nullptr && flip_opt_->count() > 0) c.flip = flip_ ? 1 : 0;
  }

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
  bool flip_ = false;
  CLI::Option* flip_opt_ = nullptr;
  CLI::Option* resume_opt_ = nullptr;
  std::vector<const CLI::Option*> extra_;
};

}  // namespace fusenas::apps
