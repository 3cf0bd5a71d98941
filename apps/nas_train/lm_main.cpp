// nas_train --task lm: train a recurrent cell's language model (DARTS rnn/train.py) on a corpus;
// flags in, library call, one line on stderr for any error.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "../common/app_support.h"
#include "../common/cli_checks.h"
#include "../common/overrides.h"
#include "../common/section_flags.h"
#include "fusenas/nas/train/lm_trainer.h"
#include "lm_main.h"

namespace fusenas::apps {

int lm_main(int argc, char** argv) {
  using namespace fusenas::nas;
  Overrides<LmTrainConfig> ov;  // bound to LmTrainConfig{}, whose defaults --help shows
  RunOptions o;
  std::string resume_dir, task;
  bool dry_run = false;

  CLI::App app{
      "nas_train --task lm: train the word- or character-level language model of a recurrent "
      "cell (DARTS's, ENAS's or a Zoph & Le tree cell) as DARTS's rnn/train.py does: tied "
      "embedding and decoder, variational dropout, SGD then NT-ASGD, AR/TAR. Writes config.json, "
      "metrics.jsonl, train.log, best.safetensors, result.json and a checkpoint into the run "
      "folder; Ctrl-C checkpoints and stops, --resume continues."};
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(34);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("nas_train: {} (see --help)\n", one_line(e.what()));
  });
  add_version_flag(app, "nas_train");
  // main() sends --task lm and the --resume of an LM run folder here.
  app.add_option("--task", task, "lm: language modelling (image: see nas_train --help)")
      ->check(CLI::IsMember({"lm"}));
  bind_corpus_flags(app, ov, &LmTrainConfig::data);
  auto* arch = ov.add(app, "--arch", &LmTrainConfig::arch,
                      std::string("Built-in cell: ") + rnn::kBuiltinRecurrentCells);
  auto* arch_file = ov.add(app, "--arch-file", &LmTrainConfig::arch_file,
                           "Cell file instead: DARTS genotype, ENAS cell or tree cell, JSON or "
                           "the papers' text forms (docs/formats.md)");
  arch_file->excludes(arch);
  bind_lm_flags(app, ov, &LmTrainConfig::lm, {{"", LmTrainConfig{}.lm}});
  ov.add(app, "--epochs", &LmTrainConfig::epochs, "Epochs (DARTS trains 8000)");
  ov.add(app, "--test-batch-size", &LmTrainConfig::test_batch_size, "Test streams");
  ov.add(app, "--nonmono", &LmTrainConfig::nonmono,
         "NT-ASGD: switch to averaged SGD when the validation loss is worse than the best "
         "before the last N epochs; 0 = SGD only");
  ov.add(app, "--seed", &LmTrainConfig::seed, "Seed of weights, windows and dropout")
      ->check(seed_check());
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto (CUDA when available)");
  app.add_option("--threads", o.threads, "CPU threads; 0 = all cores")
      ->check(int_range_check(0, 1 << 16));
  app.add_flag("--eager", o.eager,
               "On CUDA, run every window eagerly instead of replaying its length's captured "
               "CUDA graph");
  auto* out = app.add_option("--out", o.out_dir, "Run folder [default: runs/train-<time>]")
                  ->always_capture_default(false);
  auto* resume_opt = app.add_option("--resume", resume_dir,
                                    "Continue the run in this folder with its saved config "
                                    "(only --device and --threads may change)");
  auto* dry = app.add_flag("--dry-run", dry_run,
                           "Read the corpus, print the model summary and `params: N`, then exit");
  app.add_flag("!--no-progress", o.progress, "No progress bar");
  resume_opt->excludes(dry);
  app.footer(
      "Examples:\n"
      "  nas_train --task lm --arch DARTS_V2 --hidden 200 --epochs 3\n"
      "  nas_train --task lm --corpus ptb --data-path ~/ptb --epochs 8000\n"
      "  nas_train --task lm --arch-file cell.json --corpus text --data-path book.txt --level "
      "char\n"
      "  nas_train --resume runs/train-20250101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  LmTrainConfig c;
  ov.apply(c);
  o.threads = usable_threads(o.threads, "nas_train");
  o.invocation = invocation_line("nas_train", argc, argv);
  {
    std::vector<const CLI::Option*> config_flags = {out};
    for (const auto& [opt, copy] : ov.fields) config_flags.push_back(opt);
    if (const int rc = check_resume_flags("nas_train", *resume_opt, resume_dir, config_flags))
      return rc;
  }
  try {
    if (dry_run) {
      fmt::print("{}", lm_dry_run_summary(c));
      return 0;
    }
    const LmTrainResult r = resume_dir.empty() ? train_lm(c, o) : resume_lm(resume_dir, o);
    if (!r.finished) return kStoppedExit;
    fmt::print("test ppl {:.2f} (best valid ppl {:.2f}); run folder {}\n", r.test_ppl(),
               r.valid_ppl(), r.run_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_train: {}\n", one_line(e.what()));
    return 1;
  }
}

}  // namespace fusenas::apps
