// nas_train --task lm's trainer: NT-ASGD's switch rule by hand, perplexity falling below a bound
// on a learnable corpus, the interrupted run resumed to the uninterrupted one bit for bit (across
// the switch to ASGD), the best weights being the ones the validation loss names, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/nas/train/lm_trainer.h"
#include "support/run_fixtures.h"

namespace fusenas {
namespace {

using nas::LmTrainConfig;
using nas::LmTrainResult;
using testing::TempDir;

LmTrainConfig tiny_config(const std::string& corpus) {
  LmTrainConfig c;
  c.data.corpus = "text";
  c.data.data_path = corpus;
  c.arch = "DARTS_V2";
  c.lm.hidden = 24;
  c.epochs = 4;
  c.lm.batch_size = 4;
  c.lm.eval_batch_size = 2;
  c.test_batch_size = 1;
  c.lm.bptt = 8;
  c.lm.max_seq_len_delta = 4;
  c.lm.dropout = 0.1;
  c.lm.dropouth = 0.1;
  c.lm.dropoutx = 0.1;
  c.lm.dropouti = 0.1;
  c.lm.dropoute = 0.05;
  c.lm.alpha = 1e-3;
  c.seed = 3;
  return c;
}

TEST(LmTrainer, NtAsgdSwitchRuleByHand) {
  using nas::should_switch_to_asgd;
  const std::vector<double> history = {5.0, 4.0, 3.0};
  // nonmono 2: the best of all but the last 2 epochs is 5.0.
  EXPECT_FALSE(should_switch_to_asgd(history, 4.5, 2));
  EXPECT_TRUE(should_switch_to_asgd(history, 5.5, 2));
  // nonmono 1: the best of the first two is 4.0.
  EXPECT_TRUE(should_switch_to_asgd(history, 4.1, 1));
  EXPECT_FALSE(should_switch_to_asgd(history, 3.9, 1));
  // No more than nonmono epochs yet, or nonmono 0: never.
  EXPECT_FALSE(should_switch_to_asgd(history, 99.0, 3));
  EXPECT_FALSE(should_switch_to_asgd(history, 99.0, 0));
}

TEST(LmTrainer, PerplexityFallsBelowBoundOnALearnableCorpus) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 400);
  for (const char* arch : {"DARTS_V2", "ENAS", "ZOPH_LE"}) {
    SCOPED_TRACE(arch);
    LmTrainConfig c = tiny_config(dir.sub("corpus.txt"));
    c.arch = arch;
    const LmTrainResult r =
        nas::train_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub(arch)));
    ASSERT_TRUE(r.finished);
    // 21 tokens: a uniform model's perplexity is 21, one that knows only the words' frequencies
    // about 17. Knowing the sentence after <eos> needs the state carried over many windows; the
    // bound asks for most of the structure within 4 short epochs.
    EXPECT_LT(r.test_ppl(), 2.0);
    EXPECT_LT(r.valid_ppl(), 2.0);
    EXPECT_GT(r.test_ppl(), 1.0);
    const auto lines = testing::json_lines(dir.sub(arch), "metrics.jsonl");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_LT(lines.back()["train_loss"].get<double>(), lines.front()["train_loss"].get<double>());
  }
}

TEST(LmTrainer, ResumedRunEqualsTheUninterruptedOneAcrossTheSwitchToAsgd) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 200);
  LmTrainConfig c = tiny_config(dir.sub("corpus.txt"));
  c.arch = "ZOPH_LE";  // carries h and c across windows: both must be checkpointed
  c.epochs = 6;
  c.nonmono = 1;
  c.lm.lr = 60;  // large enough that the validation loss turns up and NT-ASGD switches
  const LmTrainResult whole =
      nas::train_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("whole")));
  ASSERT_TRUE(whole.finished);
  ASSERT_TRUE(whole.asgd) << "the test needs a run that switches to ASGD";
  const auto metrics = testing::json_lines(dir.sub("whole"), "metrics.jsonl");
  const int64_t total =
      testing::read_json(dir.sub("whole") + "/checkpoint.json")["global_step"].get<int64_t>();
  // Stopped 3 windows in, then at four points spread over the run (so in SGD and ASGD epochs),
  // then finished.
  LmTrainResult part =
      nas::train_lm(c, testing::quiet_options<nas::RunOptions>(dir.sub("part"), 3));
  ASSERT_FALSE(part.finished);
  EXPECT_EQ(testing::read_json(dir.sub("part") + "/checkpoint.json")["window"].get<int64_t>(), 3);
  auto o = testing::quiet_options<nas::RunOptions>("");
  for (int k = 1; k <= 4; ++k) {
    o.stop_after_steps = total * k / 5 + 1;
    part = nas::resume_lm(dir.sub("part"), o);
    ASSERT_FALSE(part.finished) << "stop " << k;
  }
  o.stop_after_steps = 0;
  part = nas::resume_lm(dir.sub("part"), o);
  ASSERT_TRUE(part.finished);
  EXPECT_EQ(part.test_loss, whole.test_loss);
  EXPECT_EQ(part.best_valid_loss, whole.best_valid_loss);
  EXPECT_TRUE(part.asgd);
  EXPECT_EQ(testing::json_lines(dir.sub("part"), "metrics.jsonl"), metrics);
  testing::expect_same_tensors(dir.sub("whole"), dir.sub("part"));
  // best.safetensors holds the weights of the epoch with the lowest validation loss.
  double best = 1e9;
  for (const auto& m : metrics) best = std::min(best, m["valid_loss"].get<double>());
  EXPECT_EQ(best, whole.best_valid_loss);
  const auto a = io::load_safetensors(dir.sub("whole") + "/best.safetensors");
  const auto b = io::load_safetensors(dir.sub("part") + "/best.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const Tensor& u = b.tensors.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), u.raw_data(), t.numel() * dtype_size(t.dtype())), 0)
        << name;
  }
}

TEST(LmTrainer, ClearErrors) {
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 40);
  LmTrainConfig c = tiny_config(dir.sub("corpus.txt"));
  const auto msg = [&](const LmTrainConfig& bad) {
    try {
      nas::train_lm(bad, testing::quiet_options<nas::RunOptions>(dir.sub("run")));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  LmTrainConfig big = c;
  big.lm.batch_size = 10000;
  EXPECT_NE(msg(big).find("too few for a batch of 10000 streams"), std::string::npos) << msg(big);
  LmTrainConfig missing = c;
  missing.data.data_path = dir.sub("absent.txt");
  EXPECT_NE(msg(missing).find("absent.txt"), std::string::npos);
  LmTrainConfig bad_cell = c;
  bad_cell.arch = "";
  bad_cell.arch_file = dir.sub("corpus.txt");
  EXPECT_NE(msg(bad_cell).find("none of the known forms"), std::string::npos) << msg(bad_cell);
  // A failed start leaves no run folder behind.
  EXPECT_FALSE(std::filesystem::exists(dir.sub("run")));
}

}  // namespace
}  // namespace fusenas
