// nas_train: train a genotype's evaluation network (DARTS train.py) or the network of an
// architecture nas_search found; flags in, library call, one line on stderr for any error.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../common/app_support.h"
#include "../common/cli_checks.h"
#include "../common/lm_task.h"
#include "../common/section_flags.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/train/arch_file.h"
#include "fusenas/nas/train/trainer.h"
#include "lm_main.h"

using fusenas::apps::kStoppedExit;
using fusenas::apps::one_line;

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv);
  if (fusenas::apps::is_lm_command(argc, argv)) return fusenas::apps::lm_main(argc, argv);
  using namespace fusenas;
  using namespace fusenas::nas;
  apps::Overrides<TrainConfig> ov;  // bound to TrainConfig{}, whose defaults --help shows
  TrainOptions o;
  std::string resume_dir, space_options;
  bool dry_run = false;

  CLI::App app{
      "nas_train: train the DARTS evaluation network of a genotype (DARTS train.py), or the "
      "network of a chain, multibranch or zoph-le architecture nas_search found, on "
      "Fashion-MNIST or CIFAR-10. Writes config.json, metrics.jsonl, train.log, result.json and "
      "a checkpoint into the run folder; Ctrl-C checkpoints and stops, --resume continues."};
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(34);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("nas_train: {} (see --help)\n", one_line(e.what()));
  });
  apps::add_version_flag(app, "nas_train");
  std::string task = "image";
  app.add_option("--task", task,
                 "image: a CNN on Fashion-MNIST or CIFAR-10; lm: a recurrent cell's language "
                 "model (nas_train --task lm --help lists its flags)")
      ->check(CLI::IsMember({"image", "lm"}));

  auto* arch = ov.add(app, "--arch", &TrainConfig::arch,
                      "Built-in cell: DARTS_V1, DARTS_V2, NASNet, AmoebaNet, ENAS, PC_DARTS");
  auto* genotype =
      ov.add(app, "--genotype", &TrainConfig::genotype_file,
             "Genotype file instead of --arch: DARTS text form or JSON (see docs/formats.md)");
  auto* arch_file = ov.add(
      app, "--arch-file", &TrainConfig::arch_file,
      "Architecture of a black-box search instead: its incumbent.json (space, architecture, "
      "hyperparameters; the search's space options from config.json beside it) or a point of "
      "--space");
  auto* space = ov.add(app, "--space", &TrainConfig::space,
                       "Space of a bare --arch-file point (an incumbent names its own)")
                    ->check(CLI::IsMember({"chain", "multibranch", "zoph-le", "darts-cell"}));
  auto* space_opts = app.add_option(
      "--space-options", space_options,
      "JSON object of space options over the search's, e.g. '{\"filters\": [8, 16, 48]}'");
  arch->excludes(genotype);
  arch_file->excludes(arch)->excludes(genotype);
  space->needs(arch_file);
  space_opts->needs(arch_file);
  ov.add(app, "--init-channels", &TrainConfig::init_channels,
         "Width: channels of the first cells (C); chain: the stem's, every layer's filters scaled "
         "alike; multibranch: every layer's; zoph-le: the widest filter choice's, every layer's "
         "filters scaled alike")
      ->default_str("16, or the searched width");
  ov.add(app, "--layers", &TrainConfig::layers,
         "Number of cells; reductions at 1/3 and 2/3 (genotypes)")
      ->default_str("8");
  const TrainConfig defaults;
  apps::bind_data_flags(app, ov, &TrainConfig::data, {{"", defaults.data}});
  ov.add(app, "--test-subset", &TrainConfig::test_subset,
         "Evaluate on the first N test images; 0 = all (quick checks only)");
  ov.add(app, "--epochs", &TrainConfig::epochs, "Training epochs");
  // An incumbent's hyperparameters replace these defaults; flags given by hand replace those.
  ov.add(app, "--batch-size", &TrainConfig::batch_size, "Training batch size");
  apps::bind_sgd_flags(app, ov, &TrainConfig::sgd, {{"", defaults.sgd}}, {});
  ov.add(app, "--cutout", &TrainConfig::cutout, "Cutout square side in pixels; 0 = off");
  ov.add(app, "--auxiliary", &TrainConfig::auxiliary,
         "Auxiliary head loss weight (DARTS: 0.4); 0 = no head (genotypes)");
  ov.add(app, "--drop-path", &TrainConfig::drop_path,
         "Drop-path probability, ramped linearly from 0 over the epochs (genotypes)")
      ->default_str("0.2");
  ov.add(app, "--seed", &TrainConfig::seed, "Seed of weights, data order, augmentation, drop-path")
      ->check(apps::seed_check());
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto (CUDA when available)");
  app.add_option("--threads", o.threads, "CPU threads; 0 = all cores")
      ->check(apps::int_range_check(0, 1 << 16));
  auto* out = app.add_option("--out", o.out_dir, "Run folder [default: runs/train-<time>]")
                  ->always_capture_default(false);
  auto* resume_opt = app.add_option("--resume", resume_dir,
                                    "Continue the run in this folder with its saved config "
                                    "(only --device and --threads may change)");
  auto* dry = app.add_flag("--dry-run", dry_run,
                           "Print the network summary and `params: N` (auxiliary head "
                           "excluded), then exit");
  app.add_flag("!--no-progress", o.progress, "No progress bar");
  resume_opt->excludes(dry);
  app.footer(
      "Examples:\n"
      "  nas_train --arch DARTS_V2 --init-channels 8 --layers 5 --epochs 1 --device cpu\n"
      "  nas_train --genotype cell.txt --dataset cifar10 --data-dir ~/cifar-10 --cutout 16 "
      "--auxiliary 0.4\n"
      "  nas_train --arch-file runs/search-20250101-120000/incumbent.json --epochs 20\n"
      "  nas_train --arch-file chain.json --space chain --init-channels 32 --dry-run\n"
      "  nas_train --resume runs/train-20250101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  TrainConfig c;
  ov.apply(c);
  if (space_opts->count() > 0) {
    const auto j = nlohmann::json::parse(space_options, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      fmt::print(stderr, "nas_train: --space-options must be a JSON object, got '{}'\n",
                 one_line(space_options.substr(0, 80)));
      return 2;
    }
    c.space_options = j;
  }
  o.threads = apps::usable_threads(o.threads, "nas_train");
  o.invocation = apps::invocation_line("nas_train", argc, argv);
  {
    std::vector<const CLI::Option*> config_flags = {space_opts, out};
    for (const auto& [opt, copy] : ov.fields) config_flags.push_back(opt);
    if (const int rc = apps::check_resume_flags("nas_train", *resume_opt, resume_dir, config_flags))
      return rc;
  }

  try {
    if (dry_run) {
      fmt::print("{}", dry_run_summary(c));
      return 0;
    }
    if (resume_dir.empty()) {
      std::set<std::string> keep;
      const std::pair<const char*, const char*> hyperparameters[] = {
          {"batch_size", "--batch-size"},
          {"lr", "--lr"},
          {"momentum", "--momentum"},
          {"weight_decay", "--weight-decay"}};
      for (const auto& [key, flag] : hyperparameters)
        if (app.get_option(flag)->count() > 0) keep.insert(key);
      const std::string adopted = adopt_incumbent_hyperparameters(c, keep);
      if (!adopted.empty())
        fmt::print("nas_train: the incumbent's {} (flags override them)\n", adopted);
    }
    const TrainResult r = resume_dir.empty() ? train(c, o) : resume(resume_dir, o);
    if (!r.finished) return kStoppedExit;
    fmt::print("report: nas_report {}\n", r.run_dir);  // the page that shows the run
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_train: {}\n", one_line(e.what()));
    return 1;
  }
}
