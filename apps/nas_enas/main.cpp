// nas_enas: ENAS architecture search; flags in (a space and preset plus overrides), library call,
// one line on stderr for any error.
#include <fmt/format.h>

#include <string>

#include "../common/app_support.h"
#include "../common/search_cli.h"
#include "fusenas/nas/enas/search.h"

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv);
  using namespace fusenas;
  using namespace fusenas::nas::enas;
  apps::SearchCli<EnasConfig, EnasOptions> cli(
      "nas_enas",
      "nas_enas: ENAS architecture search (Pham et al., 2018) with shared weights on "
      "Fashion-MNIST or CIFAR-10. Each epoch trains the shared weights (a fresh sampled child per "
      "minibatch), then the LSTM controller with REINFORCE; at the end the best of the sampled "
      "architectures is kept. Writes config.json, metrics.jsonl, sampled_archs.jsonl, "
      "derived.jsonl, arch.json/.txt, genotype.txt/.json and normal/reduce .dot (micro) or "
      "arch.dot (macro), search.log and a checkpoint into the run folder; Ctrl-C checkpoints and "
      "stops, --resume continues.");
  CLI::App& app = cli.app;
  auto& ov = cli.ov;
  std::string space = "micro";
  bool nesterov = true;
  cli.track(
      app.add_option("--space", space,
                     "micro (cells of 5 nodes, exported as a genotype for nas_train) or macro "
                     "(a chain of layers with skips)")
          ->check(CLI::IsMember({"micro", "macro"}))
          ->capture_default_str()
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast));
  cli.add_preset(
      "quick (C=8 and 5 cells, or C=16 and 12 layers; batch 32, 10000 images, 5 epochs: minutes "
      "on a CPU) or paper (ENAS's search scripts) [default: paper with a GPU, quick without]");
  const EnasConfig quick = enas_preset("quick"), micro = enas_preset("paper", "micro"),
                   macro = enas_preset("paper", "macro");
  apps::bind_supernet_flags(
      app, ov, &EnasConfig::supernet,
      {{"quick micro", quick.supernet},
       {"quick macro", enas_preset("quick", "macro").supernet},
       {"paper micro", micro.supernet},
       {"paper macro", macro.supernet}},
      {.channels = "Channels of the first cells / of every layer (C)",
       .cells = "Micro: cells in all, reductions at 1/3 and 2/3; macro: layers",
       .nodes = "Micro: nodes per cell"});
  apps::bind_data_flags(
      app, ov, &EnasConfig::data, {{"quick", quick.data}, {"paper", micro.data}},
      "Share of those images for the shared weights; the rest is search-val (rewards)");
  ov.add(app, "--epochs", &EnasConfig::epochs, "Search epochs");
  ov.add(app, "--batch-size", &EnasConfig::batch_size,
         "Batch size of shared-weight steps and of each reward");
  apps::bind_sgd_flags(app, ov, &EnasConfig::sgd, {{"micro", micro.sgd}, {"macro", macro.sgd}},
                       {.whose = "the shared weights", .cycle = "each cosine cycle"});
  ov.add(app, "--lr-t0", &EnasConfig::lr_t0,
         "Epochs of the first cosine cycle; 0 = one cycle over all epochs [10]");
  ov.add(app, "--lr-tmul", &EnasConfig::lr_tmul, "Growth of each later cycle [2]");
  const CLI::Option* nesterov_opt = cli.track(
      app.add_flag("--nesterov,!--no-nesterov", nesterov, "Nesterov momentum [on, as ENAS]"));
  ov.add(app, "--controller-steps", &EnasConfig::controller_steps,
         "Controller Adam steps after each epoch [30 micro, 50 macro]");
  ov.add(app, "--samples-per-step", &EnasConfig::samples_per_step,
         "Sampled children averaged into one controller step [10 micro, 20 macro]");
  apps::bind_adam_flags(app, ov, &EnasConfig::controller_adam,
                        {{"micro", micro.controller_adam}, {"macro", macro.controller_adam}},
                        "controller-", "the controller");
  ov.add(app, "--controller-hidden", &EnasConfig::controller_hidden, "Controller LSTM size [64]");
  ov.add(app, "--entropy-weight", &EnasConfig::entropy_weight,
         "Entropy bonus added to the reward [1e-4]");
  ov.add(app, "--baseline-decay", &EnasConfig::baseline_decay, "EMA baseline decay [0.99]");
  ov.add(app, "--tanh-constant", &EnasConfig::tanh_constant,
         "Logits become c * tanh(logits) [1.10 micro, 1.5 macro]");
  ov.add(app, "--op-tanh-reduce", &EnasConfig::op_tanh_reduce,
         "Micro: op logits use c / this [2.5]");
  ov.add(app, "--skip-target", &EnasConfig::skip_target, "Macro: skip density target [0.4]");
  ov.add(app, "--skip-weight", &EnasConfig::skip_weight, "Macro: skip penalty weight [0.8]");
  ov.add(app, "--derive-samples", &EnasConfig::derive_samples,
         "Architectures sampled at the end; the best on a search-val batch is kept [100]");
  cli.add_seed("Seed of weights, controller, samples and data order");
  cli.add_run_flags();
  cli.add_cell_flag();
  app.footer(
      "Examples:\n"
      "  nas_enas                                    # quick micro search on the CPU\n"
      "  nas_enas --space macro                      # quick macro search\n"
      "  nas_enas --preset paper --dataset cifar10 --data-dir ~/cifar-10 --device cuda\n"
      "  nas_enas --resume runs/enas-20260101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  if (const auto rc = cli.parse(argc, argv)) return *rc;
  return cli.run([&] {
    if (!cli.resume_dir.empty()) return enas_resume(cli.resume_dir, cli.options);
    EnasConfig c = enas_preset(cli.chosen_preset(), space);
    cli.apply(c);
    if (nesterov_opt->count() > 0) c.nesterov = nesterov;
    return enas_search(c, cli.options);
  });
}
