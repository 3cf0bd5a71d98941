// A diverged run stops with one message naming what went non-finite, where and at which lr, writes
// no NaN metrics, and leaves its last good checkpoint as it was.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/darts/search.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/train/trainer.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::message_of;

TEST(Divergence, CheckFiniteNamesTheValueThePlaceAndTheLr) {
  EXPECT_NO_THROW(check_finite(1.5, "the training loss", {1, 2, 0.1}));
  const std::string msg = message_of([] {
    check_finite(std::numeric_limits<double>::quiet_NaN(), "the training loss", {3, 17, 0.25});
  });
  EXPECT_NE(msg.find("diverged: the training loss is nan at epoch 3, step 17 (lr 0.25)"),
            std::string::npos)
      << msg;
  EXPECT_NE(message_of([] {
              check_finite(-std::numeric_limits<double>::infinity(), "the test loss", {2, 0, 1});
            }).find("the test loss is -inf at the end of epoch 2"),
            std::string::npos);
}

TEST(Divergence, DrainingNamesTheFirstNonFiniteStep) {
  DeferredStepStats stats;
  const Tensor labels = from_vector<int64_t>({0, 1}, {2}, TensorOptions{}.with_dtype(DType::Int64));
  const Tensor logits = zeros({2, 3});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  stats.add(full({}, 0.5), logits, labels, Tensor(), 0, {1, 1, 0.1});
  stats.add(full({}, nan), logits, labels, Tensor(), 0, {1, 2, 0.1});
  stats.add(full({}, nan), logits, labels, Tensor(), 0, {1, 3, 0.1});
  const std::string msg = message_of([&] { stats.drain(); });
  EXPECT_NE(msg.find("training loss is nan at epoch 1, step 2"), std::string::npos) << msg;
  EXPECT_TRUE(stats.empty());
  stats.add(full({}, 0.5), logits, labels, full({}, nan), 2, {4, 9, 0.1});
  EXPECT_NE(message_of([&] { stats.drain(); }).find("validation loss is nan at epoch 4, step 9"),
            std::string::npos);
}

TEST(Divergence, ADivergedTrainingRunFailsAndKeepsItsLastGoodCheckpoint) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const std::string run = tmp.sub("run");
  // One good epoch and a step, then stopped: the checkpoint holds them.
  const TrainResult first = train(testing::tiny_train_config(tmp.sub("data")),
                                  testing::quiet_options<TrainOptions>(run, 4));
  ASSERT_FALSE(first.finished);
  // The lr a resumed run continues with comes from the checkpoint: make it absurd there.
  auto state = nlohmann::json::parse(io::read_file(run + "/checkpoint.json"));
  state["scheduler"]["base_lr"] = 1e30;
  io::write_file_atomic(run + "/checkpoint.json", state.dump());
  const std::string before = io::read_file(run + "/checkpoint.json");
  const std::string metrics_before = io::read_file(run + "/metrics.jsonl");

  TrainOptions again = testing::quiet_options<TrainOptions>("");
  again.invocation = "nas_train 0.1.0 (git test); command: nas_train --resume run";
  const std::string msg = message_of([&] { resume(run, again); });
  EXPECT_NE(msg.find("diverged: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("at epoch 2, step"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(lr 5e+29)"), std::string::npos) << msg;  // cosine: half way at epoch 2
  EXPECT_EQ(io::read_file(run + "/checkpoint.json"), before);
  EXPECT_EQ(io::read_file(run + "/metrics.jsonl"), metrics_before);
  EXPECT_NO_THROW(CheckpointReader::load(run));
  // The log says who resumed the run and what ended it, for whoever looks at the folder later
  // (nas_report).
  const std::string log = io::read_file(run + "/train.log");
  EXPECT_NE(log.find("nas_train 0.1.0 (git test); command: nas_train --resume run"),
            std::string::npos);
  EXPECT_NE(log.find("failed: diverged: "), std::string::npos);
}

TEST(Divergence, ASearchThatDivergesBeforeItsFirstCheckpointLeavesNoFolder) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  DartsConfig c = darts_preset("quick");
  c.data.dataset = "cifar10";
  c.data.data_dir = tmp.sub("data");
  c.supernet.channels = 4;
  c.supernet.cells = 3;
  c.supernet.nodes = 2;
  c.epochs = 1;
  c.warmup_epochs = 0;
  c.batch_size = 8;
  c.data.train_subset = 32;
  c.sgd.lr = 1e30;
  c.sgd.lr_min = 0;
  const std::string msg =
      message_of([&] { darts_search(c, testing::quiet_options<DartsOptions>(tmp.sub("run"))); });
  EXPECT_NE(msg.find("diverged: "), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp.sub("run")));
}

}  // namespace
}  // namespace fusenas::nas
