// Final training (nas_train's library): a run stopped and resumed ends bit-for-bit equal to the
// uninterrupted one, seeded runs repeat, the dry-run count is the network's, bad configs and run
// folders fail clearly. Runs use a tiny CIFAR-10 set the test writes itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/train/trainer.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_tensors;
using testing::read_json;
using testing::TempDir;
using testing::write_tiny_cifar;

std::vector<nlohmann::json> metrics(const std::string& run) {
  return testing::json_lines(run, "metrics.jsonl");
}

TrainOptions quiet(const std::string& out, int64_t stop_after = 0) {
  TrainOptions o;
  o.device = "cpu";
  o.threads = 1;  // OpenMP threads spin at barriers; on a loaded machine one is faster
  o.out_dir = out;
  o.progress = false;
  o.echo = false;
  o.stop_after_steps = stop_after;
  return o;
}

TEST(Trainer, StoppedAndResumedRunEqualsTheUninterruptedOneBitForBit) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  const TrainConfig config = testing::tiny_train_config(tmp.sub("data"));

  const TrainResult whole = train(config, quiet(tmp.sub("whole")));
  ASSERT_TRUE(whole.finished);
  EXPECT_EQ(whole.epochs_done, 2);

  // Stops mid-epoch 1, after epoch 1's last batch (its evaluation pending) and mid-epoch 2.
  const std::string run = tmp.sub("stopped");
  TrainResult part = train(config, quiet(run, 2));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(read_json(run + "/checkpoint.json")["batch"], 2);
  part = resume(run, quiet("", 3));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(read_json(run + "/checkpoint.json")["batch"], 3);
  EXPECT_FALSE(fs::exists(run + "/metrics.jsonl"));
  part = resume(run, quiet("", 5));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.epochs_done, 1);
  const TrainResult rest = resume(run, quiet(""));
  ASSERT_TRUE(rest.finished);

  expect_same_tensors(whole.run_dir, run);
  EXPECT_EQ(metrics(whole.run_dir), metrics(run));
  ASSERT_EQ(metrics(run).size(), 2u);
  EXPECT_GT(metrics(run)[1]["drop_path"].get<double>(), 0.0);
  EXPECT_EQ(whole.test_acc, rest.test_acc);
  EXPECT_EQ(read_json(whole.run_dir + "/result.json"), read_json(run + "/result.json"));

  // Resuming a finished run changes nothing and reports the same result.
  const TrainResult again = resume(run, quiet(""));
  EXPECT_TRUE(again.finished);
  EXPECT_EQ(again.test_acc, whole.test_acc);
  expect_same_tensors(whole.run_dir, run);
}

TEST(Trainer, SeededRunsRepeatAndOtherSeedsDiffer) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  TrainConfig config = testing::tiny_train_config(tmp.sub("data"));
  config.epochs = 1;
  train(config, quiet(tmp.sub("a")));
  train(config, quiet(tmp.sub("b")));
  expect_same_tensors(tmp.sub("a"), tmp.sub("b"));
  EXPECT_EQ(metrics(tmp.sub("a")), metrics(tmp.sub("b")));
  config.seed = 8;
  train(config, quiet(tmp.sub("c")));
  const auto ta = testing::checkpoint_tensors(tmp.sub("a")),
             tc = testing::checkpoint_tensors(tmp.sub("c"));
  const Tensor& wa = ta.at("model.classifier.weight");
  const Tensor& wc = tc.at("model.classifier.weight");
  EXPECT_NE(wa.to_vector<float>(), wc.to_vector<float>());
}

TEST(Trainer, RunFolderHoldsConfigMetricsLogAndResult) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  TrainConfig config = testing::tiny_train_config(tmp.sub("data"));
  config.epochs = 1;
  const std::string run = tmp.sub("run");
  const TrainResult r = train(config, quiet(run));
  const auto saved = read_json(run + "/config.json");
  EXPECT_EQ(saved["init_channels"], 4);
  EXPECT_EQ(saved["crop_padding"], 4);  // resolved CIFAR default
  EXPECT_EQ(Genotype::parse_text(saved["genotype"]), builtin_genotype("DARTS_V2"));
  const auto m = read_json(run + "/metrics.jsonl");
  for (const char* k : {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr",
                        "seconds", "images_per_s"})
    EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_EQ(m["lr"], 0.05);
  EXPECT_EQ(read_json(run + "/result.json")["test_acc"], r.test_acc);
  EXPECT_NE(io::read_file(run + "/train.log").find("final test accuracy"), std::string::npos);
  // A second run into the same folder is refused rather than mixed into it.
  try {
    train(config, quiet(run));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a run"), std::string::npos) << e.what();
  }
}

TEST(Trainer, DryRunCountsTheNetworkWithoutItsAuxiliaryHead) {
  TrainConfig c;
  c.init_channels = 8;
  c.layers = 5;
  c.auxiliary = 0.4;
  const std::string s = dry_run_summary(c);
  EvalNetworkConfig n;
  n.genotype = builtin_genotype("DARTS_V2");
  n.in_channels = 1;
  n.image_size = 28;
  n.init_channels = 8;
  n.layers = 5;
  n.auxiliary = true;
  Generator gen(0);
  const EvalNetwork net(n, gen);
  EXPECT_NE(s.find(fmt::format("\nparams: {}\n", net.num_parameters())), std::string::npos) << s;
  EXPECT_LT(net.num_parameters(), net.num_parameters(true));
}

TEST(Trainer, BadConfigsAndRunFoldersFailWithOneClearMessage) {
  auto message = [](const TrainConfig& c) {
    try {
      dry_run_summary(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  TrainConfig c;
  c.arch = "NOPE";
  EXPECT_NE(message(c).find("unknown architecture 'NOPE'"), std::string::npos);
  c = {};
  c.epochs = 0;
  EXPECT_NE(message(c).find("epochs must be at least 1"), std::string::npos);
  c = {};
  c.data.dataset = "mnist";
  EXPECT_NE(message(c).find("unknown dataset"), std::string::npos);
  c = {};
  c.sgd.lr_min = 1;
  EXPECT_NE(message(c).find("lr-min"), std::string::npos);
  c = {};
  c.genotype_file = "/nonexistent/cell.txt";
  EXPECT_NE(message(c).find("cannot open genotype file"), std::string::npos);

  TempDir tmp;
  c = {};
  c.data.data_dir = tmp.sub("missing");
  try {
    train(c, quiet(tmp.sub("run")));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.sub("run")));  // nothing left behind

  // A run folder whose checkpoint is garbage.
  const std::string run = tmp.sub("bad");
  fs::create_directories(run);
  std::ofstream(run + "/config.json") << "{}";
  std::ofstream(run + "/checkpoint.json") << "{garbage";
  try {
    resume(run, quiet(""));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unreadable checkpoint"), std::string::npos) << e.what();
  }
}

TEST(TrainConfig, JsonRoundTripAndUnknownKeys) {
  TrainConfig c;
  c.arch = "PC_DARTS";
  c.epochs = 3;
  c.sgd.lr = 0.1;
  c.cutout = 16;
  c.seed = 123;
  const TrainConfig r = c.resolved();
  const TrainConfig back = train_config_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_EQ(back.data.crop_padding, 0);  // Fashion-MNIST's defaults
  EXPECT_EQ(back.data.flip, 0);
  EXPECT_THROW(train_config_from_json({{"epochz", 3}}), Error);
}

}  // namespace
}  // namespace fusenas::nas
