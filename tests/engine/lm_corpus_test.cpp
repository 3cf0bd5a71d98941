// Language-modelling data: the PTB, plain-text and fortunes loaders (ids, <eos>, vocabulary order,
// splits, the cap), batchify and the BPTT window walk (coverage, shift, length rule, seeds).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/data/text_corpus.h"
#include "fusenas/engine/factory.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::data {
namespace {

using fusenas::testing::expect_error;
using fusenas::testing::TempDir;
using Ids = std::vector<int64_t>;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

Ids ids(const Tensor& t) {
  return t.to_vector<int64_t>();
}

// The tokens of a split, joined by single spaces (word level) or concatenated (char level).
std::string decode(const TextCorpus& c, const Tensor& split) {
  std::string out;
  for (const int64_t id : ids(split)) {
    if (c.level == TokenLevel::Word && !out.empty()) out += ' ';
    out += c.vocab.token(id);
  }
  return out;
}

// ---- Penn Treebank format ----

// Mikolov's files start every line with a space; the last test line has no newline.
void write_tiny_ptb(const TempDir& dir, const std::string& prefix = "ptb.") {
  write_text(dir.sub(prefix + "train.txt"), " the cat sat \n the dog <unk> \n");
  write_text(dir.sub(prefix + "valid.txt"), " the cat ran \n\n");
  write_text(dir.sub(prefix + "test.txt"), " a dog");
}

TEST(PtbCorpus, IdsFollowFirstSeenOrderOverTrainThenValidThenTest) {
  TempDir dir;
  write_tiny_ptb(dir);
  const TextCorpus c = load_ptb(dir.sub(""));
  EXPECT_EQ(c.name, "ptb");
  // data.py's Dictionary: the, cat, sat, <eos>, dog, <unk> from train; ran (unseen in train) from
  // valid; a from test: valid/test words get new ids after train's, as the reference does.
  const std::vector<std::string> expected = {"the", "cat",   "sat", "<eos>",
                                             "dog", "<unk>", "ran", "a"};
  EXPECT_EQ(c.vocab.tokens(), expected);
  EXPECT_EQ(ids(c.train), (Ids{0, 1, 2, 3, 0, 4, 5, 3}));
  // An empty line is an <eos> alone (line.split() + ['<eos>']).
  EXPECT_EQ(ids(c.valid), (Ids{0, 1, 6, 3, 3}));
  EXPECT_EQ(ids(c.test), (Ids{7, 4, 3}));  // a last line without "\n" still ends in <eos>
  EXPECT_EQ(c.vocab.find("<unk>").value_or(-1), 5);
  EXPECT_FALSE(c.vocab.find("zebra").has_value());
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_NE(c.sources[1].find("ptb.valid.txt"), std::string::npos);
}

TEST(PtbCorpus, AcceptsAwdLstmFileNamesAndCrlf) {
  TempDir dir;
  write_text(dir.sub("train.txt"), " the cat\r\n a cat\r\n");
  write_text(dir.sub("valid.txt"), " cat\r\n");
  write_text(dir.sub("test.txt"), " the\r\n");
  const TextCorpus c = load_ptb(dir.sub(""));
  EXPECT_EQ(c.vocab.tokens(), (std::vector<std::string>{"the", "cat", "<eos>", "a"}));
  EXPECT_EQ(ids(c.train), (Ids{0, 1, 2, 3, 1, 2}));
}

TEST(PtbCorpus, BadFoldersNameThePath) {
  expect_error([] { load_ptb("/nonexistent/ptb"); }, {"/nonexistent/ptb", "Penn Treebank"});
  TempDir dir;
  write_text(dir.sub("ptb.train.txt"), " a b\n");
  write_text(dir.sub("ptb.test.txt"), " a b\n");
  expect_error([&] { load_ptb(dir.sub("")); }, {"ptb.valid.txt", "not found"});
  write_text(dir.sub("ptb.valid.txt"), "");
  expect_error([&] { load_ptb(dir.sub("")); }, {"ptb.valid.txt", "empty"});
}

// ---- Plain text ----

// 40 lines "w<i%3> x<i>": 3 word tokens a line with <eos>.
std::string forty_lines() {
  std::string text;
  for (int i = 0; i < 40; ++i) text += fmt::format("w{} x{}\n", i % 3, i);
  return text;
}

TEST(TextCorpus, WordLevelSplitsContiguousLines) {
  TempDir dir;
  write_text(dir.sub("t.txt"), forty_lines());
  const TextCorpus c = load_text_file(dir.sub("t.txt"));
  EXPECT_EQ(c.level, TokenLevel::Word);
  // 40 lines: valid and test round(40 * 0.05) = 2 lines each, train the first 36.
  EXPECT_EQ(c.train.numel(), 36 * 3);
  EXPECT_EQ(c.valid.numel(), 2 * 3);
  EXPECT_EQ(c.test.numel(), 2 * 3);
  EXPECT_EQ(decode(c, c.train).substr(0, 24), "w0 x0 <eos> w1 x1 <eos> ");
  EXPECT_EQ(decode(c, c.valid), "w0 x36 <eos> w1 x37 <eos>");
  EXPECT_EQ(decode(c, c.test), "w2 x38 <eos> w0 x39 <eos>");
  // Uncapped: every word gets an id, x36..x39 after the train words.
  EXPECT_EQ(c.vocab.size(), 3 + 40 + 1);
  EXPECT_EQ(c.vocab.token(ids(c.valid)[1]), "x36");
  EXPECT_EQ(ids(c.valid)[1], 40);  // w0 x0 <eos> w1 x1 w2 x2 .. x35 take ids 0 .. 39

  TextOptions o;
  o.valid_fraction = 0.1;
  o.test_fraction = 0.0;
  const TextCorpus d = load_text_file(dir.sub("t.txt"), o);
  EXPECT_EQ(d.train.numel(), 36 * 3);
  EXPECT_EQ(d.valid.numel(), 4 * 3);
  EXPECT_EQ(d.test.numel(), 0);
}

TEST(TextCorpus, CharLevelMakesEveryByteAToken) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 18; ++i) text += "ab\n";
  text += "c a\r\nb";  // CRLF is read as LF; the last line has no newline
  write_text(dir.sub("c.txt"), text);
  TextOptions o;
  o.level = TokenLevel::Char;
  const TextCorpus c = load_text_file(dir.sub("c.txt"), o);
  // 20 lines: one valid ("c a"), one test ("b"), 18 train.
  EXPECT_EQ(c.vocab.tokens(), (std::vector<std::string>{"a", "b", "\n", "c", " "}));
  EXPECT_EQ(c.train.numel(), 18 * 3);
  EXPECT_EQ(ids(c.valid), (Ids{3, 4, 0, 2}));
  EXPECT_EQ(ids(c.test), (Ids{1, 2}));
  EXPECT_EQ(decode(c, c.valid), "c a\n");
}

TEST(TextCorpus, CapKeepsTheMostFrequentTrainWords) {
  TempDir dir;
  // Train (18 lines): a 18x, b 6x, c 6x (c first seen after b: the tie keeps b), d 1x.
  std::string text;
  for (int i = 0; i < 18; ++i) {
    text += "a";
    if (i % 3 == 0) text += " b c";
    if (i == 5) text += " d";
    text += "\n";
  }
  text += "a z\n";  // valid: z was never seen in train
  text += "b c\n";  // test
  write_text(dir.sub("cap.txt"), text);
  TextOptions o;
  o.max_vocab = 4;  // <eos>, <unk>, a, b
  const TextCorpus c = load_text_file(dir.sub("cap.txt"), o);
  EXPECT_EQ(c.vocab.tokens(), (std::vector<std::string>{"a", "b", "<unk>", "<eos>"}));
  EXPECT_EQ(decode(c, c.train).substr(0, 24), "a b <unk> <eos> a <eos> ");
  EXPECT_EQ(decode(c, c.valid), "a <unk> <eos>");
  EXPECT_EQ(decode(c, c.test), "b <unk> <eos>");

  o.max_vocab = 100;  // room for all: still closed over train, so z is <unk>
  const TextCorpus d = load_text_file(dir.sub("cap.txt"), o);
  EXPECT_EQ(decode(d, d.valid), "a <unk> <eos>");
  EXPECT_EQ(d.vocab.size(), 6);  // a b c <eos> d <unk>
}

TEST(TextCorpus, BadInputIsNamed) {
  TempDir dir;
  expect_error([&] { load_text_file(dir.sub("missing.txt")); }, {"missing.txt", "not found"});
  write_text(dir.sub("empty.txt"), "");
  expect_error([&] { load_text_file(dir.sub("empty.txt")); }, {"empty.txt", "empty"});
  write_text(dir.sub("short.txt"), "one\ntwo\nthree\n");
  expect_error([&] { load_text_file(dir.sub("short.txt")); }, {"short.txt", "3 lines", "few"});
  write_text(dir.sub("t.txt"), forty_lines());
  TextOptions o;
  o.max_vocab = 1;
  expect_error([&] { load_text_file(dir.sub("t.txt"), o); }, {"cap of 1", "below 2"});
  o.max_vocab = 10;
  o.level = TokenLevel::Char;
  expect_error([&] { load_text_file(dir.sub("t.txt"), o); }, {"word level only"});
  o = {};
  o.valid_fraction = 0.6;
  o.test_fraction = 0.5;
  expect_error([&] { load_text_file(dir.sub("t.txt"), o); }, {"valid_fraction 0.6"});
}

// ---- Batching ----

Tensor iota_stream(int64_t n) {
  Ids v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return from_vector(v, {n}, TensorOptions{}.with_dtype(DType::Int64));
}

TEST(Batchify, ColumnsAreContiguousSlicesAndTheTailIsDropped) {
  // 11 tokens, 3 streams: 3 steps; tokens 9 and 10 do not fill a column.
  const Tensor b = batchify(iota_stream(11), 3);
  EXPECT_EQ(b.shape(), (Shape{3, 3}));
  EXPECT_EQ(ids(b), (Ids{0, 3, 6, 1, 4, 7, 2, 5, 8}));
  EXPECT_EQ(ids(batchify(iota_stream(4), 4)), (Ids{0, 1, 2, 3}));
  expect_error([] { batchify(iota_stream(5), 6); }, {"batch size 6", "5 tokens"});
  expect_error([] { batchify(iota_stream(5), 0); }, {"batch size 0"});
  expect_error([] { batchify(zeros({2, 2}), 1); }, {"1-D int64"});
}

// Walks every window, checking the shift and the coverage; returns (start, length) pairs.
std::vector<std::pair<int64_t, int64_t>> walk(BpttIterator& it, const Tensor& batched) {
  std::vector<std::pair<int64_t, int64_t>> windows;
  Ids inputs;
  Ids targets;
  const int64_t batch = batched.size(1);
  while (!it.done()) {
    const BpttWindow w = it.next();
    EXPECT_EQ(w.inputs.shape(), (Shape{w.length, batch}));
    EXPECT_EQ(w.targets.shape(), (Shape{w.length, batch}));
    EXPECT_EQ(it.position(), w.start + w.length);
    const Ids in = ids(w.inputs);
    const Ids tg = ids(w.targets);
    inputs.insert(inputs.end(), in.begin(), in.end());
    targets.insert(targets.end(), tg.begin(), tg.end());
    windows.emplace_back(w.start, w.length);
  }
  // Inputs are rows 0 .. steps - 2 in order, each once; targets rows 1 .. steps - 1.
  const Ids all = ids(batched);
  const auto cells = static_cast<size_t>(batch);
  EXPECT_EQ(inputs, Ids(all.begin(), all.end() - static_cast<std::ptrdiff_t>(cells)));
  EXPECT_EQ(targets, Ids(all.begin() + static_cast<std::ptrdiff_t>(cells), all.end()));
  return windows;
}

TEST(Bptt, VariableWindowsCoverTheStreamOnceInOrder) {
  // 4 streams of 250: column b holds 250b .. 250b + 249, so a target is its input + 1.
  const Tensor batched = batchify(iota_stream(1003), 4);
  ASSERT_EQ(batched.size(0), 250);
  Generator gen(7);
  BpttIterator it(batched, BpttOptions{.bptt = 35}, gen);
  const auto windows = walk(it, batched);
  ASSERT_GE(windows.size(), 5u);
  for (size_t i = 0; i + 1 < windows.size(); ++i) EXPECT_GE(windows[i].second, 5);
  const BpttWindow first = BpttIterator(batched, 20).next();
  EXPECT_EQ(ids(first.targets)[0], ids(first.inputs)[0] + 1);
  EXPECT_EQ(ids(first.targets)[3], 751);  // row 0 of the target is row 1 of the data
  expect_error([&] { it.next(); }, {"no window left"});

  // The same seed gives the same windows, another seed others.
  Generator again(7);
  BpttIterator it2(batched, BpttOptions{.bptt = 35}, again);
  EXPECT_EQ(walk(it2, batched), windows);
  Generator other(8);
  BpttIterator it3(batched, BpttOptions{.bptt = 35}, other);
  EXPECT_NE(walk(it3, batched), windows);
}

TEST(Bptt, ResumesFromAPositionAndGeneratorState) {
  const Tensor batched = batchify(iota_stream(600), 2);
  Generator gen(3);
  BpttIterator it(batched, BpttOptions{.bptt = 20}, gen);
  it.next();
  it.next();
  const int64_t position = it.position();
  const GeneratorState state = gen.state();
  const BpttWindow expected = it.next();
  Generator resumed_gen(3);
  resumed_gen.set_state(state);
  BpttIterator resumed(batched, BpttOptions{.bptt = 20}, resumed_gen, position);
  const BpttWindow got = resumed.next();
  EXPECT_EQ(got.start, expected.start);
  EXPECT_EQ(got.length, expected.length);
  EXPECT_EQ(ids(got.inputs), ids(expected.inputs));
}

TEST(Bptt, FixedWindowsForEvaluation) {
  const Tensor batched = batchify(iota_stream(100), 2);  // 50 steps: 49 input rows
  BpttIterator it(batched, 10);
  const auto windows = walk(it, batched);
  const std::vector<std::pair<int64_t, int64_t>> expected = {
      {0, 10}, {10, 10}, {20, 10}, {30, 10}, {40, 9}};
  EXPECT_EQ(windows, expected);
  EXPECT_EQ(BpttIterator(batched, 10).fixed_windows(), 5);
  // A last window of one row is kept (AWD-LSTM's training loop would skip it).
  BpttIterator it2(batched, 12);
  EXPECT_EQ(walk(it2, batched).back(), (std::pair<int64_t, int64_t>{48, 1}));
  const BpttWindow cut = BpttIterator(batched, 12, 45).next();
  EXPECT_EQ(cut.length, 4);
  EXPECT_EQ(cut.drawn, 12);
}

TEST(Bptt, LengthsFollowAwdLstmsRule) {
  Generator gen(11);
  // Without the normal draw: bptt or int(bptt / 2) = 17, the short one with probability 0.05.
  const int draws = 20000;
  int short_ones = 0;
  for (int i = 0; i < draws; ++i) {
    const int64_t len = draw_bptt_length(BpttOptions{.bptt = 35, .stddev = 0.0}, gen);
    ASSERT_TRUE(len == 35 || len == 17) << len;
    short_ones += len == 17;
  }
  EXPECT_NEAR(short_ones / double(draws), 0.05, 0.005);  // sd 0.0015

  // With N(bptt', 5) truncated by int(): E[int(X)] = E[X] - 0.5 for X far above 0, so the mean is
  // 0.95 * 35 + 0.05 * 17.5 - 0.5 = 33.625 (max(5, .) adds < 0.01). The sd of a draw is ~6.3, of
  // the mean of 20000 ~0.045.
  double sum = 0.0;
  int64_t lowest = 1000;
  for (int i = 0; i < draws; ++i) {
    const int64_t len = draw_bptt_length(BpttOptions{.bptt = 35}, gen);
    sum += static_cast<double>(len);
    lowest = std::min(lowest, len);
  }
  EXPECT_NEAR(sum / draws, 0.95 * 35 + 0.05 * 17.5 - 0.5, 0.2);
  EXPECT_GE(lowest, 5);

  // Near the minimum: never below 5, often exactly 5; DARTS's cap bptt + 20 holds.
  int fives = 0;
  for (int i = 0; i < 2000; ++i) {
    const int64_t len =
        draw_bptt_length(BpttOptions{.bptt = 6, .stddev = 20.0, .max_length = 26}, gen);
    ASSERT_GE(len, 5);
    ASSERT_LE(len, 26);
    fives += len == 5;
  }
  EXPECT_GT(fives, 500);
}

TEST(Bptt, BadArgumentsAreNamed) {
  const Tensor batched = batchify(iota_stream(20), 2);
  Generator gen(1);
  expect_error([&] { BpttIterator(batched, 1); }, {"window length of 1", "below 2"});
  expect_error([&] { BpttIterator(batched, BpttOptions{.bptt = 10, .p_full = 1.5}, gen); },
               {"p_full 1.5"});
  expect_error([&] { BpttIterator(batched, BpttOptions{.bptt = 10, .max_length = 3}, gen); },
               {"max_length 3"});
  expect_error([&] { BpttIterator(batchify(iota_stream(3), 3), 5); }, {"1 steps are too few"});
  expect_error([&] { BpttIterator(batched, 5, 10); }, {"start row 10"});
  expect_error([&] { BpttIterator(iota_stream(5), 5); }, {"2-D int64"});
}

// ---- The default corpus ----

TEST(Fortunes, LoadsIntoDisjointNonEmptySplits) {
  if (!std::filesystem::is_directory(kFortunesDir)) GTEST_SKIP() << "fortunes is not installed";
  const auto t0 = std::chrono::steady_clock::now();
  const TextCorpus words = load_fortunes();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TextOptions char_level;
  char_level.level = TokenLevel::Char;
  const TextCorpus chars = load_fortunes(kFortunesDir, char_level);
  std::printf(
      "fortunes: %zu files; words train/valid/test %lld/%lld/%lld, vocabulary %lld "
      "(%.2f s); chars %lld/%lld/%lld, vocabulary %lld\n",
      words.sources.size(), static_cast<long long>(words.train.numel()),
      static_cast<long long>(words.valid.numel()), static_cast<long long>(words.test.numel()),
      static_cast<long long>(words.vocab.size()), seconds,
      static_cast<long long>(chars.train.numel()), static_cast<long long>(chars.valid.numel()),
      static_cast<long long>(chars.test.numel()), static_cast<long long>(chars.vocab.size()));
  EXPECT_EQ(words.name, "fortunes");
  EXPECT_GE(words.sources.size(), 10u);
  for (const auto& s : words.sources) {
    EXPECT_FALSE(s.ends_with(".dat") || s.ends_with(".u8")) << s;
  }
  for (const TextCorpus* c : {&words, &chars}) {
    EXPECT_GT(c->valid.numel(), c->train.numel() / 40);
    EXPECT_GT(c->test.numel(), c->train.numel() / 40);
    EXPECT_LT(c->valid.numel(), c->train.numel() / 10);
  }
  EXPECT_GT(words.vocab.size(), 10000);
  EXPECT_LT(words.vocab.size(), 200000);
  EXPECT_GT(chars.vocab.size(), 60);
  EXPECT_LE(chars.vocab.size(), 256);

  // Disjoint: nothing is lost or repeated (the splits add up to the whole text), and the first
  // 200 characters of valid and of test occur nowhere in train or in each other.
  TextOptions whole = char_level;
  whole.valid_fraction = 0.0;
  whole.test_fraction = 0.0;
  const TextCorpus all = load_fortunes(kFortunesDir, whole);
  EXPECT_EQ(all.valid.numel() + all.test.numel(), 0);
  EXPECT_EQ(chars.train.numel() + chars.valid.numel() + chars.test.numel(), all.train.numel());
  const std::string train = decode(chars, chars.train);
  const std::string valid = decode(chars, chars.valid);
  const std::string test = decode(chars, chars.test);
  EXPECT_EQ(train.find(valid.substr(0, 200)), std::string::npos);
  EXPECT_EQ(train.find(test.substr(0, 200)), std::string::npos);
  EXPECT_EQ(valid.find(test.substr(0, 200)), std::string::npos);
}

TEST(Fortunes, MissingFolderNamesThePackage) {
  expect_error([] { load_fortunes("/nonexistent/fortunes"); },
               {"/nonexistent/fortunes", "apt-get install fortunes"});
  TempDir dir;
  write_text(dir.sub("only.dat"), "binary index");
  expect_error([&] { load_fortunes(dir.sub("")); }, {"no fortune files", "fortunes"});
}

TEST(Fortunes, EntriesAreSplitPerFile) {
  TempDir dir;
  // 20 entries in each file: per file, 18 train, 1 valid, 1 test; the "%" lines are dropped.
  for (const std::string name : {"b", "a"}) {
    std::string text;
    for (int i = 0; i < 20; ++i) text += fmt::format("{}{} one\nline two\n%\n", name, i);
    write_text(dir.sub(name), text);
    write_text(dir.sub(name + ".dat"), "index");
  }
  std::filesystem::create_symlink(dir.sub("a"), dir.sub("a.u8"));
  const TextCorpus c = load_fortunes(dir.sub(""));
  ASSERT_EQ(c.sources.size(), 2u);
  EXPECT_TRUE(c.sources[0].ends_with("/a"));  // sorted by name
  EXPECT_EQ(c.train.numel(), 2 * 18 * 6);     // "a0 one <eos> line two <eos>"
  EXPECT_EQ(decode(c, c.valid), "a18 one <eos> line two <eos> b18 one <eos> line two <eos>");
  EXPECT_EQ(decode(c, c.test), "a19 one <eos> line two <eos> b19 one <eos> line two <eos>");
  EXPECT_EQ(c.vocab.token(0), "a0");
}

}  // namespace
}  // namespace fusenas::data
