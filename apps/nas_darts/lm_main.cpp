// nas_darts --task lm: DARTS's recurrent-cell search on a corpus; flags in (a preset plus
// overrides), library call, one line on stderr for any error.
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "../common/app_support.h"
#include "../common/search_cli.h"
#include "fusenas/nas/darts/lm_search.h"
#include "lm_main.h"

namespace fusenas::apps {

int darts_lm_main(int argc, char** argv) {
  using namespace fusenas::nas;
  SearchCli<LmSearchConfig, RunOptions> cli(
      "nas_darts",
      "nas_darts --task lm: DARTS's recurrent-cell search (Liu et al. 2019, sec. 3; rnn/"
      "train_search.py) on a language-modelling corpus: the 8-node cell's relaxation over tanh, "
      "relu, sigmoid, identity and none, alphas stepped on the valid split between SGD steps of "
      "the weights. Writes config.json, metrics.jsonl, genotype.txt/.json, search.log and a "
      "checkpoint; Ctrl-C checkpoints and stops, --resume continues.");
  CLI::App& app = cli.app;
  auto& ov = cli.ov;
  std::string task;
  app.add_option("--task", task, "lm: the recurrent cell (image: see nas_darts --help)")
      ->check(CLI::IsMember({"lm"}));
  cli.add_preset(
      "quick (hidden 32, vocabulary 2000, 240,000 training tokens, batch 64, bptt 20, 4 epochs: "
      "about 4 minutes on two CPU cores) or paper (train_search.py: hidden 300, batch 256, 50 "
      "epochs) [default: paper with a GPU, quick without]");
  bind_corpus_flags(app, ov, &LmSearchConfig::data);
  const LmSearchConfig quick = lm_search_preset("quick"), paper = lm_search_preset("paper");
  bind_lm_flags(app, ov, &LmSearchConfig::lm, {{"quick", quick.lm}, {"paper", paper.lm}});
  ov.add(app, "--steps", &LmSearchConfig::steps, "Nodes of the cell [8]");
  ov.add(app, "--order", &LmSearchConfig::order, "1: first order, 2: unrolled (second order)")
      ->check(CLI::IsMember({1, 2}));
  ov.add(app, "--epochs", &LmSearchConfig::epochs, "Search epochs [quick 4, paper 50]");
  ov.add(app, "--arch-lr", member(&LmSearchConfig::arch, &AdamSection::lr),
         "The alphas' Adam lr [3e-3]");
  ov.add(app, "--arch-weight-decay", member(&LmSearchConfig::arch, &AdamSection::weight_decay),
         "The alphas' weight decay [1e-3]");
  cli.add_seed("Seed of weights, alphas, windows and dropout");
  cli.add_run_flags();
  app.footer(
      "Examples:\n"
      "  nas_darts --task lm                          # quick CPU search on fortunes\n"
      "  nas_darts --task lm --preset paper --corpus ptb --data-path ~/ptb --device cuda\n"
      "  nas_darts --resume runs/search-20260101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    LmSearchResult r;
    if (!cli.resume_dir.empty()) {
      r = resume_lm_search(cli.resume_dir, cli.options);
    } else {
      LmSearchConfig c = lm_search_preset(cli.chosen_preset());
      cli.apply(c);
      r = search_lm(c, cli.options);
    }
    if (!r.finished) return kStoppedExit;
    fmt::print(
        "genotype: {}\nvalid ppl {:.2f}; train it: nas_train --task lm --arch-file "
        "{}/genotype.json\n",
        r.genotype.to_text(), std::exp(r.valid_loss), r.run_dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_darts: {}\n", one_line(e.what()));
    return 1;
  }
}

}  // namespace fusenas::apps
