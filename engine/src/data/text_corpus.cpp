// Text corpora: reading and cutting text, split sizes, tokenizing and numbering, and the
// plain-text file loader.
#include "fusenas/engine/data/text_corpus.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "fusenas/engine/error.h"
#include "text_lines.h"

namespace fusenas::data {
namespace text {
namespace {

// ASCII whitespace, as the C locale's isspace; Python's str.split() also splits on a few Unicode
// spaces (U+00A0, ...), which PTB does not contain.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Calls fn(token) for every token of `lines` in reading order.
template <typename Fn>
void for_each_token(const Lines& lines, TokenLevel level, Fn&& fn) {
  for (const std::string_view line : lines) {
    if (level == TokenLevel::Char) {
      for (size_t i = 0; i < line.size(); ++i) fn(line.substr(i, 1));
      fn(kNewline);
      continue;
    }
    size_t i = 0;
    while (true) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) break;
      size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      fn(line.substr(i, j - i));
      i = j;
    }
    fn(kEos);  // data.py: words = line.split() + ['<eos>']
  }
}

Tensor to_tensor(const std::vector<int64_t>& ids) {
  Tensor t =
      Tensor::empty({static_cast<int64_t>(ids.size())}, TensorOptions{}.with_dtype(DType::Int64));
  if (!ids.empty()) std::memcpy(t.data<int64_t>(), ids.data(), ids.size() * sizeof(int64_t));
  return t;
}

// Marks the words that a cap of `max_vocab` keeps, indexed by their id in `train_words`: <eos>
// and <unk> always, then the max_vocab - 2 most frequent other train words.
std::vector<bool> capped_words(const Lines& train, int64_t max_vocab, Vocabulary& train_words) {
  std::vector<int64_t> counts;
  for_each_token(train, TokenLevel::Word, [&](std::string_view token) {
    const int64_t id = train_words.add(token);
    if (id == static_cast<int64_t>(counts.size())) counts.push_back(0);
    ++counts[static_cast<size_t>(id)];
  });
  std::vector<int64_t> order(counts.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  // Stable: equally frequent words keep their first-seen order, so the cut is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return counts[static_cast<size_t>(a)] > counts[static_cast<size_t>(b)];
  });
  std::vector<bool> keep(counts.size(), false);
  int64_t slots = max_vocab - 2;
  for (const int64_t id : order) {
    const std::string& word = train_words.token(id);
    if (word == kEos || word == kUnk) {
      keep[static_cast<size_t>(id)] = true;
    } else if (slots > 0) {
      keep[static_cast<size_t>(id)] = true;
      --slots;
    }
  }
  return keep;
}

}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  FUSENAS_CHECK(std::filesystem::is_regular_file(path, ec), "{}: file not found", path);
  std::ifstream in(path, std::ios::binary);
  FUSENAS_CHECK(in.good(), "{}: cannot open: {}", path, std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  FUSENAS_CHECK(!in.bad(), "{}: read failed: {}", path, std::strerror(errno));
  FUSENAS_CHECK(!text.empty(), "{}: the file is empty", path);
  return text;
}

Lines split_lines(std::string_view text) {
  Lines lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    const size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    if (end > begin && text[end - 1] == '\r') --end;
    lines.push_back(text.substr(begin, end - begin));
    begin = next;
  }
  return lines;
}

void check_options(const TextOptions& options) {
  const auto fraction_ok = [](double f) { return f >= 0.0 && f < 1.0; };
  FUSENAS_CHECK(fraction_ok(options.valid_fraction) && fraction_ok(options.test_fraction) &&
                    options.valid_fraction + options.test_fraction < 1.0,
                "text corpus: valid_fraction {} and test_fraction {} must lie in [0, 1) and leave "
                "part of the text to train",
                options.valid_fraction, options.test_fraction);
  FUSENAS_CHECK(options.max_vocab == 0 || options.max_vocab >= 2,
                "text corpus: a vocabulary cap of {} is below 2 (<eos> and <unk> need a slot each)",
                options.max_vocab);
  FUSENAS_CHECK(options.max_vocab == 0 || options.level == TokenLevel::Word,
                "text corpus: the vocabulary cap applies to word level only (char level keeps "
                "every byte)");
}

SplitSizes split_sizes(int64_t units, const TextOptions& options) {
  const auto share = [&](double fraction) {
    return static_cast<int64_t>(std::llround(static_cast<double>(units) * fraction));
  };
  SplitSizes sizes;
  sizes.test = share(options.test_fraction);
  sizes.valid = std::min(share(options.valid_fraction), units - sizes.test);
  sizes.train = units - sizes.valid - sizes.test;
  return sizes;
}

void check_split(const SplitSizes& sizes, const TextOptions& options, std::string_view source,
                 std::string_view unit) {
  const int64_t total = sizes.train + sizes.valid + sizes.test;
  FUSENAS_CHECK(sizes.train > 0 && (sizes.valid > 0 || options.valid_fraction == 0.0) &&
                    (sizes.test > 0 || options.test_fraction == 0.0),
                "{}: {} {} are too few to split into train/valid/test ({}/{}/{} with fractions "
                "valid {} and test {})",
                source, total, unit, sizes.train, sizes.valid, sizes.test, options.valid_fraction,
                options.test_fraction);
}

TextCorpus build_corpus(std::string name, const SplitLines& lines, TokenLevel level,
                        int64_t max_vocab) {
  TextCorpus corpus;
  corpus.name = std::move(name);
  corpus.level = level;
  Vocabulary train_words;
  std::vector<bool> keep;
  if (max_vocab > 0) keep = capped_words(lines.train, max_vocab, train_words);

  // Ids in first-seen order over train, then valid, then test, as data.py's Corpus adds words
  // (AWD-LSTM and DARTS rnn/data.py: tokenize(train), tokenize(valid), tokenize(test), each
  // calling add_word on every word): without a cap, a valid/test word unseen in train gets a new
  // id after the train words.
  const auto ids_of = [&](const Lines& split) {
    std::vector<int64_t> ids;
    for_each_token(split, level, [&](std::string_view token) {
      if (max_vocab > 0) {
        const auto seen = train_words.find(token);
        if (!seen || !keep[static_cast<size_t>(*seen)]) token = kUnk;
      }
      ids.push_back(corpus.vocab.add(token));
    });
    return to_tensor(ids);
  };
  corpus.train = ids_of(lines.train);
  corpus.valid = ids_of(lines.valid);
  corpus.test = ids_of(lines.test);
  return corpus;
}

}  // namespace text

TextCorpus load_text_file(const std::string& path, const TextOptions& options) {
  text::check_options(options);
  const std::string content = text::read_file(path);
  const text::Lines lines = text::split_lines(content);
  const text::SplitSizes sizes = text::split_sizes(static_cast<int64_t>(lines.size()), options);
  text::check_split(sizes, options, path, "lines");

  // Contiguous blocks, as enwik8/text8 are split: the first lines train, then valid, then test.
  text::SplitLines split;
  const auto begin = lines.begin();
  split.train.assign(begin, begin + sizes.train);
  split.valid.assign(begin + sizes.train, begin + sizes.train + sizes.valid);
  split.test.assign(begin + sizes.train + sizes.valid, lines.end());
  TextCorpus corpus = text::build_corpus("text", split, options.level, options.max_vocab);
  corpus.sources = {path};
  return corpus;
}

}  // namespace fusenas::data
