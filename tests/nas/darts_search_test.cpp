// DARTS search runs (nas_darts's library): a search stopped and resumed ends bit-for-bit equal to
// the uninterrupted one, seeded searches repeat, the run folder holds what the docs promise, and
// bad configs fail clearly. Runs use a tiny CIFAR-10 set the test writes itself.
#include <gtest/gtest.h>

#include <filesystem>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/darts/search.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::json_lines;
using testing::read_json;
using testing::TempDir;

// 40 training images split 20/20, batches of 8: 3 steps per epoch (the last one short), with
// CIFAR's crop and flip on, momentum, weight decay and clipping.
DartsConfig tiny_config(const std::string& data_dir, int order) {
  DartsConfig c = darts_preset("quick");
  c.supernet.channels = 4;
  c.supernet.cells = 3;
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.data.train_subset = 0;
  c.batch_size = 8;
  c.epochs = 2;
  c.order = order;
  c.warmup_epochs = 0;
  c.seed = 7;
  return c;
}

DartsOptions quiet(const std::string& out, int64_t stop_after = 0) {
  return testing::quiet_options<DartsOptions>(out, stop_after);
}

class DartsResume : public ::testing::TestWithParam<int> {};

TEST_P(DartsResume, StoppedAndResumedSearchEqualsTheUninterruptedOneBitForBit) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const DartsConfig config = tiny_config(tmp.sub("data"), GetParam());
  const DartsResult whole = darts_search(config, quiet(tmp.sub("whole")));
  ASSERT_TRUE(whole.finished);

  // Stops mid-epoch 1, then mid-epoch 2, then runs to the end.
  const std::string run = tmp.sub("stopped");
  DartsResult part = darts_search(config, quiet(run, 2));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(read_json(run + "/checkpoint.json")["batch"], 2);
  part = darts_resume(run, quiet("", 4));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.epochs_done, 1);
  const DartsResult rest = darts_resume(run, quiet(""));
  ASSERT_TRUE(rest.finished);

  testing::expect_same_tensors(whole.run_dir, run);
  EXPECT_EQ(json_lines(whole.run_dir, "metrics.jsonl"), json_lines(run, "metrics.jsonl"));
  EXPECT_EQ(json_lines(whole.run_dir, "alphas.jsonl"), json_lines(run, "alphas.jsonl"));
  EXPECT_EQ(json_lines(run, "alphas.jsonl").size(), 2u);
  EXPECT_EQ(whole.genotype, rest.genotype);
  EXPECT_EQ(io::read_file(whole.run_dir + "/genotype.txt"), io::read_file(run + "/genotype.txt"));
}

INSTANTIATE_TEST_SUITE_P(Order, DartsResume, ::testing::Values(1, 2),
                         [](const auto& info) { return "Order" + std::to_string(info.param); });

TEST(DartsSearch, SeededSearchesRepeatAndOtherSeedsDiffer) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  DartsConfig config = tiny_config(tmp.sub("data"), 1);
  config.epochs = 1;
  darts_search(config, quiet(tmp.sub("a")));
  darts_search(config, quiet(tmp.sub("b")));
  testing::expect_same_tensors(tmp.sub("a"), tmp.sub("b"));
  EXPECT_EQ(json_lines(tmp.sub("a"), "alphas.jsonl"), json_lines(tmp.sub("b"), "alphas.jsonl"));
  config.seed = 8;
  darts_search(config, quiet(tmp.sub("c")));
  EXPECT_NE(json_lines(tmp.sub("a"), "alphas.jsonl"), json_lines(tmp.sub("c"), "alphas.jsonl"));
}

TEST(DartsSearch, RunFolderHoldsEverythingTheDocsPromise) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const DartsResult r = darts_search(tiny_config(tmp.sub("data"), 1), quiet(tmp.sub("run")));
  const std::string run = r.run_dir;
  for (const char* f : {"config.json", "metrics.jsonl", "alphas.jsonl", "genotype.txt",
                        "genotype.json", "normal.dot", "reduce.dot", "alphas_normal.svg",
                        "alphas_reduce.svg", "search.log", "result.json", "checkpoint.json"})
    EXPECT_TRUE(fs::exists(run + "/" + f)) << f;
  EXPECT_EQ(darts_config_from_json(read_json(run + "/config.json")).supernet.channels, 4);
  const auto metrics = json_lines(run, "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 2u);
  for (const char* k :
       {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "genotype"})
    EXPECT_TRUE(metrics[1].contains(k)) << k;
  // Cosine from 0.025 to 0.001 over 2 epochs: epoch 2 runs at the midpoint.
  EXPECT_NEAR(metrics[1]["lr"].get<double>(), 0.013, 1e-12);
  for (const auto& line : json_lines(run, "alphas.jsonl")) {
    for (const char* cell : {"normal", "reduce"}) {
      const auto rows = line[cell].get<std::vector<std::vector<double>>>();
      ASSERT_EQ(rows.size(), 14u);
      for (const auto& row : rows) {
        double total = 0;
        for (double w : row) total += w;
        EXPECT_NEAR(total, 1.0, 1e-6);
      }
    }
  }
  const Genotype text = Genotype::parse_text(io::read_file(run + "/genotype.txt"));
  EXPECT_EQ(text, Genotype::from_json(io::read_file(run + "/genotype.json")));
  EXPECT_EQ(text, r.genotype);
  EXPECT_EQ(metrics[1]["genotype"].get<std::string>(), text.to_text());
  EXPECT_NE(io::read_file(run + "/normal.dot").find("digraph"), std::string::npos);
  EXPECT_NE(io::read_file(run + "/alphas_reduce.svg").find("<svg"), std::string::npos);
  EXPECT_EQ(r.train_command.rfind("nas_train --genotype " + run + "/genotype.txt", 0), 0u);
  EXPECT_EQ(read_json(run + "/result.json")["train_command"], r.train_command);
}

// Warm-up epochs train the weights with the alphas frozen: the alphas after each warm-up epoch
// are the same, they move in the first epoch after it, and the warm-up epochs record no
// architect validation loss while their weights still train.
TEST(DartsSearch, WarmUpEpochsKeepTheAlphasFrozen) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  DartsConfig c = tiny_config(tmp.sub("data"), 1);
  c.epochs = 3;
  c.warmup_epochs = 2;
  const std::string run = darts_search(c, quiet(tmp.sub("run"))).run_dir;
  const auto alphas = json_lines(run, "alphas.jsonl");
  const auto metrics = json_lines(run, "metrics.jsonl");
  ASSERT_EQ(alphas.size(), 3u);
  ASSERT_EQ(metrics.size(), 3u);
  for (const char* cell : {"normal", "reduce"}) {
    EXPECT_EQ(alphas[0][cell], alphas[1][cell]) << cell;
    EXPECT_NE(alphas[1][cell], alphas[2][cell]) << cell;
  }
  EXPECT_TRUE(metrics[0]["arch_val_loss"].is_null());
  EXPECT_TRUE(metrics[1]["arch_val_loss"].is_null());
  EXPECT_TRUE(metrics[2]["arch_val_loss"].is_number());
  EXPECT_NE(metrics[0]["train_loss"], metrics[1]["train_loss"]);
  EXPECT_NE(io::read_file(run + "/search.log").find("warm-up: alphas frozen"), std::string::npos);
}

TEST(DartsSearch, BadConfigsAndRunFoldersFailWithOneClearMessage) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  DartsConfig c = tiny_config(tmp.sub("data"), 1);
  c.data.data_dir = tmp.sub("nowhere");
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("x"))); }).find("does not exist"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.sub("x")));
  c = tiny_config(tmp.sub("data"), 3);
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("y"))); }).find("order must be 1 or 2"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), 1);
  c.supernet.channels = 5;
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("y"))); }).find("channels must be even"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), 1);
  c.supernet.ops = {"none", "conv_9x9"};
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("y"))); }).find("conv_9x9"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), 1);
  c.warmup_epochs = c.epochs;
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("y"))); }).find("warm-up epochs must lie"),
            std::string::npos);
  EXPECT_NE(message([] { darts_preset("huge"); }).find("unknown preset"), std::string::npos);
  EXPECT_NE(message([&] { darts_resume(tmp.sub("none"), quiet("")); }).find("cannot resume"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), 1);
  c.epochs = 1;
  darts_search(c, quiet(tmp.sub("done")));
  EXPECT_NE(message([&] { darts_search(c, quiet(tmp.sub("done"))); }).find("already holds a run"),
            std::string::npos);
  EXPECT_NE(message([] {
              darts_config_from_json({{"chanels", 3}});
            }).find("unknown key"),
            std::string::npos);
}

TEST(DartsSearch, PresetsCarryThePapersSettings) {
  const DartsConfig paper = darts_preset("paper");
  EXPECT_EQ(paper.supernet.channels, 16);
  EXPECT_EQ(paper.supernet.cells, 8);
  EXPECT_EQ(paper.batch_size, 64);
  EXPECT_EQ(paper.epochs, 50);
  EXPECT_EQ(paper.sgd.lr, 0.025);
  EXPECT_EQ(paper.sgd.lr_min, 0.001);
  EXPECT_EQ(paper.arch.lr, 3e-4);
  EXPECT_EQ(paper.arch.beta1, 0.5);
  EXPECT_EQ(paper.arch.weight_decay, 1e-3);
  EXPECT_EQ(paper.data.train_portion, 0.5);
  const DartsConfig quick = darts_preset("quick");
  EXPECT_EQ(paper.warmup_epochs, 0);
  EXPECT_EQ(quick.arch.lr, 2e-2);
  EXPECT_EQ(quick.warmup_epochs, 3);
  EXPECT_NO_THROW(quick.validate());
  const DartsConfig round = darts_config_from_json(to_json(darts_preset("quick")));
  EXPECT_EQ(to_json(round), to_json(darts_preset("quick")));
}

}  // namespace
}  // namespace fusenas::nas
