// The sections run configs are made of: data, SGD and Adam. Each holds its defaults, validates
// itself with one sentence naming the key, and lists its config.json keys once (flat, the names
// run folders have always had); apps/common/section_flags.h binds each to its flags.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace fusenas::nas {

// Which images a run reads and how they are augmented.
struct DataSection {
  std::string dataset = "fashion-mnist";  // or "cifar10"
  std::string data_dir{};                 // empty: the dataset's standard folder
  int64_t train_subset = 0;               // the first N training images (before a split); 0 = all
  // Searches split those images into search-train and search-val by this share. Unset where a run
  // trains on all of them (nas_train), whose config then has no train_portion key.
  std::optional<double> train_portion{};
  int64_t crop_padding = -1;  // random crop after zero padding; -1: the dataset's default
  int flip = -1;              // random horizontal flips: 1 on, 0 off, -1 the dataset's default

  // The dataset's folder, crop padding and flips where they are unset.
  DataSection resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value (-1 stands for the
  // dataset's default crop padding and flip).
  void validate() const;
  int64_t in_channels() const;
  int64_t image_size() const;
};

// The supernet a DARTS or ENAS search trains (ENAS: its shared child network). The defaults are
// DARTS's; ENAS's presets set theirs.
struct SupernetSection {
  int64_t channels = 16;  // C of the first cells (ENAS macro: of every layer)
  int cells = 8;          // cells in all, reductions at 1/3 and 2/3 (ENAS macro: layers)
  int nodes = 4;          // intermediate nodes per cell
  // DARTS: the candidate ops, empty for the 8 DARTS candidates. Unset for ENAS, whose micro space
  // has its own 5 and whose config then has no ops key.
  std::optional<std::vector<std::string>> ops{};

  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
};

// Weights trained by SGD with momentum, the lr following a cosine from lr to lr_min. The defaults
// are nas_train's: DARTS train.py's, but for the lr (see below); the searches set theirs where they
// differ.
struct SgdSection {
  double lr = 0.05;  // DARTS: 0.025 for 600 epochs; short runs need the larger step
  double lr_min = 0;
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double grad_clip = 5.0;  // max global L2 norm of the gradients; 0 = off

  void validate() const;
};

// Which text a language-modelling run reads (nas_train --task lm, nas_darts --task lm).
struct CorpusSection {
  // "fortunes" (Debian's, the default: a stand-in, not PTB), "ptb" (a folder of
  // ptb.{train,valid,test}.txt) or "text" (one plain-text file, split 90/5/5 by lines).
  std::string corpus = "fortunes";
  std::string data_path;       // "": /usr/share/games/fortunes for fortunes; required otherwise
  std::string level = "word";  // "word" or "char" (fortunes and text)
  // Word level, fortunes and text: the vocabulary's size cap (<eos> and <unk> included), PTB's
  // 10,000 by default; 0 = every word. PTB's files are already capped.
  int64_t max_vocab = 10000;
  int64_t train_tokens = 0;  // > 0: only the first N tokens of the train split (quick runs)

  // data_path filled in for fortunes.
  CorpusSection resolved() const;
  void validate() const;
};

// A language model's size, windows, SGD and regularisation (nas_train --task lm, nas_darts --task
// lm), with DARTS's names; the defaults are rnn/train.py's.
struct LmSection {
  int64_t hidden = 850;  // embedding = hidden (the decoder is the tied embedding)
  int64_t batch_size = 64;
  int64_t eval_batch_size = 10;
  // Training windows: bptt (probability 0.95) or bptt / 2, drawn around that with a normal
  // (nas_train; DARTS's search draws none), at least 5 and at most bptt + max_seq_len_delta long.
  int64_t bptt = 35;
  int64_t max_seq_len_delta = 20;
  // Plain SGD, its lr scaled per window by the window's drawn length / bptt; clipping of the
  // gradients' global norm (0 = off).
  double lr = 20;
  double clip = 0.25;
  double weight_decay = 8e-7;
  // Dropout (rnn::LmDropout): on the cell's outputs, on h(t-1) and x(t) into the cell, on the
  // embeddings, and of whole words from the embedding table.
  double dropout = 0.75;
  double dropouth = 0.25;
  double dropoutx = 0.75;
  double dropouti = 0.2;
  double dropoute = 0.1;
  double wdrop = 0;  // DropConnect on the cell's recurrent weights (AWD-LSTM's; DARTS uses none)
  // AR on the dropped outputs (alpha) and TAR on the raw outputs' differences (beta).
  double alpha = 0;
  double beta = 1e-3;

  void validate() const;
};

// The batch size of networks trained from scratch (DARTS train.py's): nas_train's, and every
// black-box trial's where it is not searched.
inline constexpr int64_t kTrainingBatchSize = 96;

// Parameters trained by Adam. The defaults are DARTS's architect (train_search.py); ENAS's
// controller sets its own (beta1 0, eps 1e-3, no weight decay).
struct AdamSection {
  double lr = 3e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-3;

  // `name` is what the keys start with ("arch": "arch lr must be positive, got 0").
  void validate(const std::string& name) const;
};

template <typename Self, typename Section>
concept SectionRef = std::same_as<std::remove_const_t<Self>, Section>;

// The config.json keys of each section: f(key, field) for every key, in one place for every config
// that holds the section. Self is the section, const or not.
template <SectionRef<DataSection> Self, typename F>
void for_each_key(Self& s, F&& f) {
  f("dataset", s.dataset);
  f("data_dir", s.data_dir);
  f("train_subset", s.train_subset);
  if (s.train_portion) f("train_portion", *s.train_portion);
  f("crop_padding", s.crop_padding);
  f("flip", s.flip);
}

template <SectionRef<CorpusSection> Self, typename F>
void for_each_key(Self& s, F&& f) {
  f("corpus", s.corpus);
  f("data_path", s.data_path);
  f("level", s.level);
  f("max_vocab", s.max_vocab);
  f("train_tokens", s.train_tokens);
}

template <SectionRef<LmSection> Self, typename F>
void for_each_key(Self& s, F&& f) {
  f("hidden", s.hidden);
  f("batch_size", s.batch_size);
  f("eval_batch_size", s.eval_batch_size);
  f("bptt", s.bptt);
  f("max_seq_len_delta", s.max_seq_len_delta);
  f("lr", s.lr);
  f("clip", s.clip);
  f("weight_decay", s.weight_decay);
  f("dropout", s.dropout);
  f("dropouth", s.dropouth);
  f("dropoutx", s.dropoutx);
  f("dropouti", s.dropouti);
  f("dropoute", s.dropoute);
  f("wdrop", s.wdrop);
  f("alpha", s.alpha);
  f("beta", s.beta);
}

template <SectionRef<SupernetSection> Self, typename F>
void for_each_key(Self& s, F&& f) {
  f("channels", s.channels);
  f("cells", s.cells);
  f("nodes", s.nodes);
  if (s.ops) f("ops", *s.ops);
}

template <SectionRef<SgdSection> Self, typename F>
void for_each_key(Self& s, F&& f) {
  f("lr", s.lr);
  f("lr_min", s.lr_min);
  f("momentum", s.momentum);
  f("weight_decay", s.weight_decay);
  f("grad_clip", s.grad_clip);
}

// Keys prefix + "lr", "beta1", "beta2", "eps", "weight_decay" (DARTS: "arch_", ENAS:
// "controller_").
template <SectionRef<AdamSection> Self, typename F>
void for_each_key(Self& s, const std::string& prefix, F&& f) {
  f(prefix + "lr", s.lr);
  f(prefix + "beta1", s.beta1);
  f(prefix + "beta2", s.beta2);
  f(prefix + "eps", s.eps);
  f(prefix + "weight_decay", s.weight_decay);
}

}  // namespace fusenas::nas
