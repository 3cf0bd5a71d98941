// Shared steps of the text corpus loaders: reading a file, cutting it into lines, sizing the
// train/valid/test split, and turning split lines into token ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/data/text_corpus.h"

namespace fusenas::data::text {

using Lines = std::vector<std::string_view>;

struct SplitLines {
  Lines train;
  Lines valid;
  Lines test;
};

struct SplitSizes {
  int64_t train = 0;
  int64_t valid = 0;
  int64_t test = 0;
};

// The whole file; throws fusenas::Error naming the path when it is missing, unreadable or empty.
std::string read_file(const std::string& path);

// Lines ended by "\n" (a last line without one counts; a "\r" before it is dropped, so CRLF text
// reads like LF text). Views into `text`.
Lines split_lines(std::string_view text);

// Checks the fractions and the vocabulary cap of `options`.
void check_options(const TextOptions& options);

// How many of `units` units go to each split: valid and test round(units * fraction) each.
SplitSizes split_sizes(int64_t units, const TextOptions& options);

// Throws unless train is non-empty and valid/test are non-empty where their fraction is not 0.
void check_split(const SplitSizes& sizes, const TextOptions& options, std::string_view source,
                 std::string_view unit);

// Tokenizes the split lines at `level` and numbers the tokens (see TextOptions::max_vocab).
TextCorpus build_corpus(std::string name, const SplitLines& lines, TokenLevel level,
                        int64_t max_vocab);

}  // namespace fusenas::data::text
