// The flags of each config section (nas/run/config_sections.h), bound in one place for every app:
// the names, the help texts, and the defaults --help shows, read from the presets given.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/nas/run/config_sections.h"
#include "help_text.h"
#include "overrides.h"

namespace fusenas::apps {

// A section's values in each preset, by label ("quick", "paper"; "" when there is one), for the
// defaults that --help shows.
template <typename Section>
using Presets = std::vector<std::pair<std::string, Section>>;

// `field` (a member pointer or a callable on the section) in each preset, as help_default says it.
template <typename Section, typename Field>
std::string preset_default(const Presets<Section>& presets, Field field) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& [label, section] : presets)
    values.emplace_back(label, help_value(std::invoke(field, section)));
  return help_default(values);
}

// Shows `shown` as the option's default: as CLI11's own (=value) in an app that shows captured
// defaults (nas_train), else at the end of the help text, where the searches state theirs.
inline CLI::Option* with_default(CLI::Option* opt, const std::string& shown) {
  if (opt->get_always_capture_default()) return opt->default_str(shown);
  return opt->description(opt->get_description() + " [" + shown + "]");
}

// --dataset, --data-dir, --train-subset, --train-portion (where the presets split the images; its
// help is the app's), --crop-padding, --flip/--no-flip.
template <typename Config>
void bind_data_flags(CLI::App& app, Overrides<Config>& ov, nas::DataSection Config::*data,
                     const Presets<nas::DataSection>& presets,
                     const std::string& portion_help = "") {
  using nas::DataSection;
  Presets<DataSection> by_dataset;
  for (const char* name : {"fashion-mnist", "cifar10"})
    by_dataset.emplace_back(name, DataSection{.dataset = name}.resolved());
  with_default(
      ov.add(app, "--dataset", member(data, &DataSection::dataset), "fashion-mnist or cifar10")
          ->check(CLI::IsMember({"fashion-mnist", "cifar10"})),
      preset_default(presets, &DataSection::dataset));
  with_default(ov.add(app, "--data-dir", member(data, &DataSection::data_dir), "Dataset folder"),
               preset_default(by_dataset, &DataSection::data_dir));
  const bool split = presets.front().second.train_portion.has_value();
  with_default(ov.add(app, "--train-subset", member(data, &DataSection::train_subset),
                      split ? "Use the first N training images before the split; 0 = all"
                            : "Train on the first N training images; 0 = all"),
               preset_default(presets, &DataSection::train_subset));
  if (split) {
    const auto portion = [data](Config& c) -> double& { return *(c.*data).train_portion; };
    with_default(ov.add(app, "--train-portion", portion, portion_help),
                 preset_default(presets, [](const DataSection& d) { return *d.train_portion; }));
  }
  with_default(ov.add(app, "--crop-padding", member(data, &DataSection::crop_padding),
                      "Random-crop padding in pixels"),
               preset_default(by_dataset, &DataSection::crop_padding));
  with_default(ov.add_switch(app, "--flip,!--no-flip", member(data, &DataSection::flip),
                             "Random horizontal flips on or off"),
               preset_default(by_dataset, [](const DataSection& d) {
                 return std::string(d.flip == 1 ? "on" : "off");
               }));
}

// --corpus, --data-path, --level, --max-vocab, --train-tokens (language-modelling runs).
template <typename Config>
void bind_corpus_flags(CLI::App& app, Overrides<Config>& ov, nas::CorpusSection Config::*data) {
  using nas::CorpusSection;
  ov.add(app, "--corpus", member(data, &CorpusSection::corpus),
         "fortunes (Debian's, a stand-in for PTB), ptb or text")
      ->check(CLI::IsMember({"fortunes", "ptb", "text"}));
  ov.add(app, "--data-path", member(data, &CorpusSection::data_path),
         "ptb: the folder of ptb.{train,valid,test}.txt; text: the file; fortunes: its folder")
      ->default_str("/usr/share/games/fortunes for fortunes");
  ov.add(app, "--level", member(data, &CorpusSection::level), "word or char (fortunes, text)")
      ->check(CLI::IsMember({"word", "char"}));
  ov.add(app, "--max-vocab", member(data, &CorpusSection::max_vocab),
         "Word level: keep the N - 2 most frequent training words (+ <eos>, <unk>); 0 = all");
  ov.add(app, "--train-tokens", member(data, &CorpusSection::train_tokens),
         "Train on the first N tokens of the train split only; 0 = all");
}

// --hidden, --batch-size, --eval-batch-size, --bptt, --max-seq-len-delta, --lr, --clip,
// --weight-decay, the five dropouts, --alpha and --beta (language-modelling runs).
template <typename Config>
void bind_lm_flags(CLI::App& app, Overrides<Config>& ov, nas::LmSection Config::*lm,
                   const Presets<nas::LmSection>& presets) {
  using nas::LmSection;
  const auto flag = [&](const char* name, auto field, const std::string& help) {
    with_default(ov.add(app, name, member(lm, field), help), preset_default(presets, field));
  };
  flag("--hidden", &LmSection::hidden, "Embedding = hidden size");
  flag("--batch-size", &LmSection::batch_size, "Training streams");
  flag("--eval-batch-size", &LmSection::eval_batch_size, "Validation streams");
  flag("--bptt", &LmSection::bptt, "Window length (bptt, or bptt / 2 with probability 0.05)");
  flag("--max-seq-len-delta", &LmSection::max_seq_len_delta,
       "A window is at most bptt + this long");
  flag("--lr", &LmSection::lr, "SGD lr (scaled per window by its length / bptt)");
  flag("--clip", &LmSection::clip, "Gradient-norm clip; 0 = off");
  flag("--weight-decay", &LmSection::weight_decay, "L2 weight decay");
  flag("--dropout", &LmSection::dropout, "Dropout on the cell's outputs");
  flag("--dropouth", &LmSection::dropouth, "Dropout on h(t-1) into the cell");
  flag("--dropoutx", &LmSection::dropoutx, "Dropout on x(t) into the cell");
  flag("--dropouti", &LmSection::dropouti, "Dropout on the embeddings");
  flag("--dropoute", &LmSection::dropoute, "Whole words dropped from the embedding");
  flag("--wdrop", &LmSection::wdrop, "DropConnect on the cell's recurrent weights");
  flag("--alpha", &LmSection::alpha, "AR weight (on the dropped outputs)");
  flag("--beta", &LmSection::beta, "TAR weight (on raw output differences)");
}

// What an app's supernet flags say of each field.
struct SupernetFlagText {
  std::string channels;
  std::string cells;
  std::string nodes;
};

// --init-channels/--channels, --layers/--cells, --nodes, and --ops where the presets have ops
// (DARTS; its help names the default list `default_ops`).
template <typename Config>
void bind_supernet_flags(CLI::App& app, Overrides<Config>& ov,
                         nas::SupernetSection Config::*supernet,
                         const Presets<nas::SupernetSection>& presets, const SupernetFlagText& text,
                         const std::vector<std::string>& default_ops = {}) {
  using nas::SupernetSection;
  with_default(ov.add(app, "--init-channels,--channels",
                      member(supernet, &SupernetSection::channels), text.channels),
               preset_default(presets, &SupernetSection::channels));
  with_default(
      ov.add(app, "--layers,--cells", member(supernet, &SupernetSection::cells), text.cells),
      preset_default(presets, &SupernetSection::cells));
  with_default(ov.add(app, "--nodes", member(supernet, &SupernetSection::nodes), text.nodes),
               preset_default(presets, &SupernetSection::nodes));
  if (presets.front().second.ops) {
    const auto ops = [supernet](Config& c) -> std::vector<std::string>& {
      return *(c.*supernet).ops;
    };
    ov.add(
          app, "--ops", ops,
          "Candidate ops, comma-separated [" + fmt::format("{}", fmt::join(default_ops, ",")) + "]")
        ->delimiter(',');
  }
}

// How an app's SGD flags name what they train.
struct SgdFlagText {
  std::string whose{};               // "the weights", "the shared weights"; empty: the network's
  std::string cycle = "the cosine";  // what the lr starts and lr-min ends: "each cosine cycle"
  std::string unless{};              // after lr, momentum and weight decay: ", where not searched"
};

// --lr, --lr-min, --momentum, --weight-decay, --grad-clip.
template <typename Config>
void bind_sgd_flags(CLI::App& app, Overrides<Config>& ov, nas::SgdSection Config::*sgd,
                    const Presets<nas::SgdSection>& presets, const SgdFlagText& text) {
  using nas::SgdSection;
  const std::string of = text.whose.empty() ? "" : " of " + text.whose;
  with_default(ov.add(app, "--lr", member(sgd, &SgdSection::lr),
                      "SGD lr" + of + " at the start of " + text.cycle +
                          " (down to --lr-min, stepped per epoch)" + text.unless),
               preset_default(presets, &SgdSection::lr));
  with_default(ov.add(app, "--lr-min", member(sgd, &SgdSection::lr_min),
                      "Lr" + of + " at the end of " + text.cycle),
               preset_default(presets, &SgdSection::lr_min));
  with_default(ov.add(app, "--momentum", member(sgd, &SgdSection::momentum),
                      "SGD momentum" + of + text.unless),
               preset_default(presets, &SgdSection::momentum));
  with_default(ov.add(app, "--weight-decay", member(sgd, &SgdSection::weight_decay),
                      "L2 weight decay" + of + text.unless),
               preset_default(presets, &SgdSection::weight_decay));
  with_default(ov.add(app, "--grad-clip", member(sgd, &SgdSection::grad_clip),
                      "Max gradient L2 norm" + of + "; 0 = off"),
               preset_default(presets, &SgdSection::grad_clip));
}

// --<prefix>lr and --<prefix>weight-decay of `whose` ("the alphas"); the betas stay the
// section's, with no flags.
template <typename Config>
void bind_adam_flags(CLI::App& app, Overrides<Config>& ov, nas::AdamSection Config::*adam,
                     const Presets<nas::AdamSection>& presets, const std::string& prefix,
                     const std::string& whose) {
  using nas::AdamSection;
  with_default(
      ov.add(app, "--" + prefix + "lr", member(adam, &AdamSection::lr), "Adam lr of " + whose),
      preset_default(presets, &AdamSection::lr));
  with_default(ov.add(app, "--" + prefix + "weight-decay", member(adam, &AdamSection::weight_decay),
                      "Adam weight decay of " + whose),
               preset_default(presets, &AdamSection::weight_decay));
}

}  // namespace fusenas::apps
