// nas_darts: DARTS architecture search; flags in (a preset plus overrides), library call, one line
// on stderr for any error.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "../common/app_support.h"
#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/device.h"
#include "fusenas/nas/darts/search.h"
#include "fusenas/nas/primitives.h"

namespace {

using fusenas::nas::DartsConfig;

// Flags write into `given`; only the flags actually on the command line are then copied over
// the preset's values.
struct Overrides {
  DartsConfig given;
  std::vector<std::pair<CLI::Option*, std::function<void(DartsConfig&)>>> fields;

  template <typename T>
  CLI::Option* add(CLI::App& app, const std::string& name, T DartsConfig::*field,
                   const std::string& help) {
    CLI::Option* opt = app.add_option(name, given.*field, help);
    fields.push_back({opt, [this, field](DartsConfig& c) { c.*field = given.*field; }});
    return opt;
  }
  void apply(DartsConfig& c) const {
    for (const auto& [opt, copy] : fields) {
      if (opt->count() > 0) copy(c);
    }
  }
  bool any() const {
    for (const auto& [opt, copy] : fields) {
      if (opt->count() > 0) return true;
    }
    return false;
  }
};

}  // namespace

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv);
  using namespace fusenas;
  using namespace fusenas::nas;
  DartsOptions o;
  Overrides ov;
  std::string preset, resume_dir;
  bool flip = false;

  CLI::App app{
      "nas_darts: DARTS architecture search (Liu et al., 2019) on Fashion-MNIST or CIFAR-10. "
      "Writes config.json, metrics.jsonl, alphas.jsonl, genotype.txt/.json, normal/reduce .dot "
      "(.svg/.png with graphviz), alpha heatmaps, search.log and a checkpoint into the run "
      "folder; Ctrl-C checkpoints and stops, --resume continues."};
  app.get_formatter()->column_width(34);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("nas_darts: {} (see --help)\n", apps::one_line(e.what()));
  });
  app.add_option("--preset", preset,
                 "quick (C=8, 5 cells, batch 32, 3200 images, 4 epochs: minutes on a CPU) or "
                 "paper (C=16, 8 cells, batch 64, 50 epochs) [default: paper with a GPU, quick "
                 "without]")
      ->check(CLI::IsMember({"quick", "paper"}))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  ov.add(app, "--init-channels,--channels", &DartsConfig::channels,
         "Channels of the first cells (C)");
  ov.add(app, "--layers,--cells", &DartsConfig::cells, "Cells; reductions at 1/3 and 2/3");
  ov.add(app, "--nodes", &DartsConfig::nodes, "Intermediate nodes per cell (4 in DARTS)");
  ov.add(app, "--ops", &DartsConfig::ops,
         fmt::format("Candidate ops, comma-separated [default: {}]",
                     fmt::join(darts_primitives(), ",")))
      ->delimiter(',');
  ov.add(app, "--order", &DartsConfig::order, "1: first-order DARTS, 2: second order (unrolled)")
      ->check(CLI::IsMember({1, 2}));
  ov.add(app, "--dataset", &DartsConfig::dataset, "fashion-mnist or cifar10")
      ->check(CLI::IsMember({"fashion-mnist", "cifar10"}));
  ov.add(
      app, "--data-dir", &DartsConfig::data_dir,
      fmt::format("Dataset folder [default: {} or {}]", data::kFashionMnistDir, data::kCifar10Dir));
  ov.add(app, "--train-subset", &DartsConfig::train_subset,
         "Use the first N training images before the split; 0 = all");
  ov.add(app, "--train-portion", &DartsConfig::train_portion,
         "Share of those images for search-train; the rest is search-val");
  ov.add(app, "--epochs", &DartsConfig::epochs, "Search epochs");
  ov.add(app, "--batch-size", &DartsConfig::batch_size, "Batch size (train and val)");
  ov.add(app, "--lr", &DartsConfig::lr, "Weight lr, cosine-annealed per epoch [0.025]");
  ov.add(app, "--lr-min", &DartsConfig::lr_min, "Final weight lr [0.001]");
  ov.add(app, "--momentum", &DartsConfig::momentum, "Weight SGD momentum [0.9]");
  ov.add(app, "--weight-decay", &DartsConfig::weight_decay, "Weight decay [3e-4]");
  ov.add(app, "--grad-clip", &DartsConfig::grad_clip, "Max weight-gradient L2 norm; 0 = off [5]");
  ov.add(app, "--arch-lr", &DartsConfig::arch_lr, "Alpha Adam lr [3e-4]");
  ov.add(app, "--arch-weight-decay", &DartsConfig::arch_weight_decay, "Alpha weight decay [1e-3]");
  ov.add(app, "--crop-padding", &DartsConfig::crop_padding,
         "Random-crop padding [default: 0 fashion-mnist, 4 cifar10]");
  auto* flip_opt = app.add_flag("--flip,!--no-flip", flip,
                                "Random horizontal flips [default: off fashion-mnist, on cifar10]");
  ov.add(app, "--seed", &DartsConfig::seed, "Seed of weights, alphas and data order");
  // The last --device/--preset wins, so ./run.sh's defaults can be overridden by its arguments.
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto (CUDA when available)")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--threads", o.threads, "CPU threads; 0 = all cores")->capture_default_str();
  app.add_option("--out", o.out_dir, "Run folder [default: runs/darts-<time>]");
  app.add_option("--resume", resume_dir,
                 "Continue the search in this folder with its saved config "
                 "(only --device and --threads may change)");
  app.add_flag("!--no-progress", o.progress, "No progress bar");
  app.add_option("--stop-after-steps", o.stop_after_steps,
                 "Checkpoint and stop after this many steps in all (as on Ctrl-C); 0 = never")
      ->group("");  // a test hook, hidden from --help
  app.footer(
      "Examples:\n"
      "  nas_darts                                   # quick CPU search on Fashion-MNIST\n"
      "  nas_darts --preset paper --dataset cifar10 --data-dir ~/cifar-10 --device cuda\n"
      "  nas_darts --order 2 --epochs 10 --out runs/second-order\n"
      "  nas_darts --resume runs/darts-20260101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!resume_dir.empty() && (ov.any() || flip_opt->count() > 0 || !preset.empty())) {
    fmt::print(stderr,
               "nas_darts: search flags cannot be combined with --resume (the run keeps its saved "
               "config; only --device and --threads may change)\n");
    return 2;
  }

  try {
    if (!resume_dir.empty()) {
      const DartsResult r = darts_resume(resume_dir, o);
      return r.finished ? 0 : apps::kStoppedExit;
    }
    if (preset.empty()) {
      const bool gpu = o.device == "auto" ? cuda_available() : o.device.rfind("cuda", 0) == 0;
      preset = gpu ? "paper" : "quick";
    }
    DartsConfig c = darts_preset(preset);
    ov.apply(c);
    if (flip_opt->count() > 0) c.flip = flip ? 1 : 0;
    const DartsResult r = darts_search(c, o);
    return r.finished ? 0 : apps::kStoppedExit;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_darts: {}\n", apps::one_line(e.what()));
    return 1;
  }
}
