// Language-modelling corpora: Penn Treebank files, any plain-text file (word or byte level) and
// Debian's fortunes (the default corpus), each as train/valid/test streams of int64 token ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/data/vocabulary.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::data {

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
inline constexpr std::string_view kEos = "<eos>";  // word level: ends every line
inline constexpr std::string_view kUnk = "<unk>";  // word level: a word outside a capped vocabulary
inline constexpr std::string_view kNewline = "\n";  // char level: ends every line

enum class TokenLevel { Word, Char };

struct TextCorpus {
  std::string name;  // "ptb", "text", "fortunes"
  TokenLevel level = TokenLevel::Word;
  Vocabulary vocab;
  Tensor train;  // int64 [tokens], CPU; ids into vocab, in reading order
  Tensor valid;
  Tensor test;
  std::vector<std::string> sources;  // the files read, in the order they were read
};

struct TextOptions {
  TokenLevel level = TokenLevel::Word;
  // Word level only. 0: every word of every split gets an id (as data.py does). N >= 2: the
  // vocabulary holds at most N tokens, <eos> and <unk> included: the N - 2 words most frequent in
  // train (ties: first seen first); every other word, in any split, becomes <unk>.
  int64_t max_vocab = 0;
  // Of each file's units (lines; fortunes: entries), the last round(n * test_fraction) are test,
  // the round(n * valid_fraction) before them valid, the rest train.
  double valid_fraction = 0.05;
  double test_fraction = 0.05;
};

// Penn Treebank as Mikolov's simple-examples ship it: ptb.train.txt, ptb.valid.txt and
// ptb.test.txt in `dir` (train.txt, valid.txt, test.txt, as AWD-LSTM's getdata.sh renames them,
// are accepted too). One sentence a line, words split on whitespace, <unk> already in the text,
// <eos> appended to every line; ids as AWD-LSTM/DARTS's Corpus gives them (see ptb.cpp).
TextCorpus load_ptb(const std::string& dir);

// Any plain-text file, at word level (whitespace-split words, <eos> at each line end) or char
// level (every byte a token, "\n" at each line end), split by `options`.
TextCorpus load_text_file(const std::string& path, const TextOptions& options = {});

// Debian's fortunes package, a stand-in for PTB that is installed by scripts/deps.sh (about 2.5 MB
// of English quotes, not PTB): every plain fortune file of `dir` (no .dat index, no .u8 link, no
// subfolder) in sorted name order; entries are the text between lines holding a single "%", and
// each file's entries are split by `options` (so every file feeds every split).
TextCorpus load_fortunes(const std::string& dir = kFortunesDir, const TextOptions& options = {});

}  // namespace fusenas::data
