// nas_train --task lm on CUDA with its SGD windows replayed from CUDA graphs (one per window
// length, the masks drawn outside and copied in, the scaled lr read from the device) against the
// same run stepped eagerly: every metric and every checkpointed tensor bit for bit, for a cell
// with a plain state, one with a cell state (the tree cell) and ENAS's, with every dropout and
// DropConnect on.
#include <gtest/gtest.h>

#include <string>

#include "fusenas/nas/train/lm_trainer.h"
#include "support/gpu_compare.h"
#include "support/run_fixtures.h"

namespace fusenas {
namespace {

using nas::LmTrainConfig;
using testing::TempDir;

LmTrainConfig graph_config(const std::string& corpus, const std::string& arch) {
  LmTrainConfig c;
  c.data.corpus = "text";
  c.data.data_path = corpus;
  c.arch = arch;
  c.lm.hidden = 8;
  c.epochs = 2;
  c.lm.batch_size = 4;
  c.lm.eval_batch_size = 2;
  c.test_batch_size = 1;
  // Window lengths drawn around 5 and capped at 7: each length comes back often enough to be
  // captured and then replayed.
  c.lm.bptt = 5;
  c.lm.max_seq_len_delta = 2;
  c.lm.dropout = 0.2;
  c.lm.dropouth = 0.2;
  c.lm.dropoutx = 0.2;
  c.lm.dropouti = 0.2;
  c.lm.dropoute = 0.1;
  c.lm.wdrop = 0.2;
  c.lm.alpha = 1e-3;
  c.seed = 4;
  return c;
}

class LmGraphGpu : public ::testing::TestWithParam<std::string> {};

TEST_P(LmGraphGpu, ReplayedWindowsEqualEagerOnes) {
  FUSENAS_REQUIRE_GPU();
  TempDir dir;
  testing::write_pattern_corpus(dir.sub("corpus.txt"), 60);
  const LmTrainConfig c = graph_config(dir.sub("corpus.txt"), GetParam());
  auto options = [&](const std::string& out, bool eager) {
    auto o = testing::quiet_options<nas::RunOptions>(dir.sub(out));
    o.device = "cuda";
    o.eager = eager;
    return o;
  };
  const nas::LmTrainResult eager = nas::train_lm(c, options("eager", true));
  const nas::LmTrainResult graphed = nas::train_lm(c, options("graphed", false));
  ASSERT_TRUE(eager.finished && graphed.finished);
  EXPECT_EQ(eager.graph_replays, 0);
  EXPECT_GT(graphed.graph_captures, 0);
  EXPECT_GT(graphed.graph_replays, graphed.graph_captures);
  EXPECT_EQ(testing::json_lines(dir.sub("graphed"), "metrics.jsonl"),
            testing::json_lines(dir.sub("eager"), "metrics.jsonl"));
  EXPECT_EQ(graphed.test_loss, eager.test_loss);
  testing::expect_same_tensors(dir.sub("graphed"), dir.sub("eager"));
}

INSTANTIATE_TEST_SUITE_P(Cells, LmGraphGpu, ::testing::Values("DARTS_V2", "ZOPH_LE", "ENAS"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fusenas
