// nas_darts: DARTS architecture search; flags in (a preset plus overrides), library call, one line
// on stderr for any error.
#include <fmt/format.h>

#include <string>

#include "../common/app_support.h"
#include "../common/lm_task.h"
#include "../common/search_cli.h"
#include "fusenas/nas/darts/search.h"
#include "fusenas/nas/primitives.h"
#include "lm_main.h"

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv);
  if (fusenas::apps::is_lm_command(argc, argv)) return fusenas::apps::darts_lm_main(argc, argv);
  using namespace fusenas;
  using namespace fusenas::nas;
  apps::SearchCli<DartsConfig, DartsOptions> cli(
      "nas_darts",
      "nas_darts: DARTS architecture search (Liu et al., 2019) on Fashion-MNIST or CIFAR-10. "
      "Writes config.json, metrics.jsonl, alphas.jsonl, genotype.txt/.json, normal/reduce .dot "
      "(.svg/.png with graphviz), alpha heatmaps, search.log and a checkpoint into the run "
      "folder; Ctrl-C checkpoints and stops, --resume continues.");
  CLI::App& app = cli.app;
  auto& ov = cli.ov;
  std::string task = "image";
  app.add_option("--task", task,
                 "image: CNN cells on images; lm: DARTS's recurrent cell on a text corpus "
                 "(nas_darts --task lm --help lists its flags) [image]")
      ->check(CLI::IsMember({"image", "lm"}));
  cli.add_preset(
      "quick (C=8, 5 cells, batch 32, 3200 images, 8 epochs of which 3 warm-up, arch lr 2e-2: "
      "about 2 minutes on a CPU) or paper (C=16, 8 "
      "cells, batch 64, 50 epochs) [default: paper with a GPU, quick without]");
  const DartsConfig quick = darts_preset("quick"), paper = darts_preset("paper");
  apps::bind_supernet_flags(app, ov, &DartsConfig::supernet,
                            {{"quick", quick.supernet}, {"paper", paper.supernet}},
                            {.channels = "Channels of the first cells (C)",
                             .cells = "Cells; reductions at 1/3 and 2/3",
                             .nodes = "Intermediate nodes per cell (4 in DARTS)"},
                            darts_primitives());
  ov.add(app, "--order", &DartsConfig::order, "1: first-order DARTS, 2: second order (unrolled)")
      ->check(CLI::IsMember({1, 2}));
  apps::bind_data_flags(app, ov, &DartsConfig::data, {{"quick", quick.data}, {"paper", paper.data}},
                        "Share of those images for search-train; the rest is search-val");
  CLI::Option* epochs_opt = ov.add(app, "--epochs", &DartsConfig::epochs, "Search epochs");
  ov.add(app, "--batch-size", &DartsConfig::batch_size, "Batch size (train and val)");
  apps::bind_sgd_flags(app, ov, &DartsConfig::sgd, {{"quick", quick.sgd}, {"paper", paper.sgd}},
                       {.whose = "the weights"});
  apps::bind_adam_flags(app, ov, &DartsConfig::arch, {{"quick", quick.arch}, {"paper", paper.arch}},
                        "arch-", "the alphas");
  CLI::Option* warmup_opt =
      ov.add(app, "--warmup-epochs", &DartsConfig::warmup_epochs,
             "First epochs train the weights only, alphas frozen [quick 3, paper 0; scaled with "
             "--epochs]");
  cli.add_seed("Seed of weights, alphas and data order");
  cli.add_run_flags();
  cli.add_cell_flag();
  cli.add_eager_flag();
  app.footer(
      "Examples:\n"
      "  nas_darts                                   # quick CPU search on Fashion-MNIST\n"
      "  nas_darts --preset paper --dataset cifar10 --data-dir ~/cifar-10 --device cuda\n"
      "  nas_darts --order 2 --epochs 10 --out runs/second-order\n"
      "  nas_darts --resume runs/darts-20260101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  if (const auto rc = cli.parse(argc, argv)) return *rc;
  return cli.run([&] {
    if (!cli.resume_dir.empty()) return darts_resume(cli.resume_dir, cli.options);
    DartsConfig c = darts_preset(cli.chosen_preset());
    const DartsConfig preset = c;
    cli.apply(c);
    // The preset's warm-up is a share of its epochs: keep the share when only --epochs changes,
    // so that `--epochs 2` runs rather than failing on a warm-up longer than the search.
    if (epochs_opt->count() > 0 && warmup_opt->count() == 0)
      c.warmup_epochs = preset.warmup_epochs * c.epochs / preset.epochs;
    return darts_search(c, cli.options);
  });
}
