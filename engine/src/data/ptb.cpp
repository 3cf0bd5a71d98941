// Penn Treebank loader: the three word-level files of Mikolov's simple-examples.
#include "fusenas/engine/data/text_corpus.h"

#include <array>
#include <filesystem>

#include "fusenas/engine/error.h"
#include "text_lines.h"

namespace fusenas::data {
namespace {

// ptb.<split>.txt, or <split>.txt (AWD-LSTM's getdata.sh renames them so) when only that exists.
std::string find_split_file(const std::filesystem::path& dir, const std::string& split) {
  const auto ptb = dir / ("ptb." + split + ".txt");
  const auto plain = dir / (split + ".txt");
  std::error_code ec;
  if (!std::filesystem::exists(ptb, ec) && std::filesystem::exists(plain, ec)) return plain;
  FUSENAS_CHECK(std::filesystem::exists(ptb, ec),
                "{}: file not found (a Penn Treebank folder holds ptb.train.txt, ptb.valid.txt "
                "and ptb.test.txt)",
                ptb.string());
  return ptb;
}

}  // namespace

TextCorpus load_ptb(const std::string& dir) {
  std::error_code ec;
  FUSENAS_CHECK(std::filesystem::is_directory(dir, ec), "{}: Penn Treebank folder not found", dir);
  // The files are already split, tokenized and <unk>-ed; only <eos> is added, and the ids follow
  // data.py's Corpus: Dictionary.add_word over train, then valid, then test (AWD-LSTM
  // salesforce/awd-lstm-lm data.py; DARTS quark0/darts rnn/data.py is the same code).
  std::array<std::string, 3> contents;
  std::vector<std::string> sources;
  const std::array<std::string, 3> splits = {"train", "valid", "test"};
  for (size_t i = 0; i < splits.size(); ++i) {
    sources.push_back(find_split_file(dir, splits[i]));
    contents[i] = text::read_file(sources.back());
  }
  text::SplitLines lines;
  lines.train = text::split_lines(contents[0]);
  lines.valid = text::split_lines(contents[1]);
  lines.test = text::split_lines(contents[2]);
  TextCorpus corpus = text::build_corpus("ptb", lines, TokenLevel::Word, 0);
  corpus.sources = std::move(sources);
  return corpus;
}

}  // namespace fusenas::data
