// nas_darts --task lm's search: a small search ends with a genotype derived from its alphas and a
// falling training perplexity; stopped and resumed, first and second order end bit for bit where
// the uninterrupted run does; clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/darts/lm_search.h"
#include "support/run_fixtures.h"

namespace fusenas {
namespace {

using nas::LmSearchConfig;
using nas::LmSearchResult;
using testing::TempDir;

LmSearchConfig tiny_config(const std::string& corpus) {
  LmSearchConfig c;
  c.data.corpus = "text";
  c.data.data_path = corpus;
  c.lm.hidden = 12;
  c.steps = 4;
  c.epochs = 3;
  c.lm.batch_size = 4;
  c.lm.eval_batch_size = 2;
  c.lm.bptt = 6;
  c.lm.dropout = 0.1;
  c.lm.dropouth = 0.1;
  c.lm.dropoutx = 0.1;
  c.lm.dropouti = 0.1;
  c.arch.lr = 3e-2;
  c.seed = 5;
  return c;
}

TEST(LmSearch, EndsWithTheGenotypeOfItsAlphasAndLearns) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 1200);
  LmSearchConfig c = tiny_config(dir.sub("corpus.txt"));
  // The search cell batch-normalises every state over the batch (DARTS's BatchNorm1d); with a
  // handful of streams the running statistics that evaluation uses stray far from the batches'.
  c.lm.batch_size = 32;
  const LmSearchResult r =
      nas::search_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("run")));
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.genotype.steps(), 4);
  // The files name the same cell as the result.
  const auto from_file =
      nas::rnn::RecurrentGenotype::from_json(io::read_file(dir.sub("run") + "/genotype.json"));
  EXPECT_EQ(from_file, r.genotype);
  const auto lines = testing::json_lines(dir.sub("run"), "metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_LT(lines.back()["train_loss"].get<double>(), lines.front()["train_loss"].get<double>());
  // 21 tokens: a uniform model's perplexity is 21. Training gets close to 1 (the sentences follow
  // a fixed pattern); evaluation, with the running BN statistics, falls too, to well under half of
  // uniform (about 4.6 at this seed).
  EXPECT_LT(lines.back()["train_ppl"].get<double>(), 2.0);
  EXPECT_LT(lines.back()["valid_ppl"].get<double>(), 8.0);
  EXPECT_LT(lines.back()["valid_ppl"].get<double>(), lines.front()["valid_ppl"].get<double>());
  EXPECT_EQ(lines.back()["genotype"].get<std::string>(), r.genotype.to_text());
}

class LmSearchResume : public ::testing::TestWithParam<int> {};

TEST_P(LmSearchResume, StoppedAndResumedEqualsTheUninterruptedRun) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 200);
  LmSearchConfig c = tiny_config(dir.sub("corpus.txt"));
  c.order = GetParam();
  c.epochs = 2;
  const LmSearchResult whole =
      nas::search_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("whole")));
  ASSERT_TRUE(whole.finished);
  const int64_t total =
      testing::read_json(dir.sub("whole") + "/checkpoint.json")["global_step"].get<int64_t>();
  LmSearchResult part =
      nas::search_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("part"), total / 3));
  ASSERT_FALSE(part.finished);
  auto o = testing::quiet_options<nas::RunOptions>("", 2 * total / 3 + 1);
  part = nas::resume_lm_search(dir.sub("part"), o);
  ASSERT_FALSE(part.finished);
  o.stop_after_steps = 0;
  part = nas::resume_lm_search(dir.sub("part"), o);
  ASSERT_TRUE(part.finished);
  EXPECT_EQ(part.genotype, whole.genotype);
  EXPECT_EQ(part.valid_loss, whole.valid_loss);
  EXPECT_EQ(testing::json_lines(dir.sub("part"), "metrics.jsonl"),
            testing::json_lines(dir.sub("whole"), "metrics.jsonl"));
  testing::expect_same_tensors(dir.sub("whole"), dir.sub("part"));
}

INSTANTIATE_TEST_SUITE_P(Orders, LmSearchResume, ::testing::Values(1, 2));

TEST(LmSearch, ClearErrors) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 40);
  LmSearchConfig c = tiny_config(dir.sub("corpus.txt"));
  c.order = 3;
  try {
    nas::search_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("run")));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("order must be 1 or 2"), std::string::npos) << e.what();
  }
  c.order = 1;
  c.lm.batch_size = 5000;
  try {
    nas::search_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("run")));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too few for a batch of 5000"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.sub("run")));
}

}  // namespace
}  // namespace fusenas
