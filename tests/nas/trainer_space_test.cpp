// Final training of black-box search architectures (TrainConfig::arch_file): chain and multibranch
// networks train in a run folder with their space's parameter count, a stopped chain run resumes
// to the uninterrupted one bit for bit, widths scale, an incumbent brings its search's options and
// hyperparameters, and what does not apply to these networks is refused with one clear message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/space/chain_network.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/train/arch_file.h"
#include "fusenas/nas/train/trainer.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_json;
using testing::TempDir;

const json kChainArch = json::parse(R"({"layers": [
  {"type": "conv", "kernel": 3, "filters": 16, "stride": 2},
  {"type": "max_pool", "kernel": 3, "stride": 1},
  {"type": "sep_conv", "kernel": 3, "filters": 32, "stride": 1}]})");
// The quick preset's chain options: filter 8 is outside the defaults (16, 32, 64).
const json kChainOptions = {{"max_layers", 5}, {"filters", {8, 16, 32}}, {"stem_channels", 8}};
const json kMultiBranchArch = json::parse(R"({"layers": [
  {"op": "conv_3x3", "skips": []}, {"op": "sep_conv_5x5", "skips": [1]},
  {"op": "max_pool_3x3", "skips": [0, 1]}, {"op": "avg_pool_3x3", "skips": [1, 0, 1]}]})");
const json kHp = {{"batch_size", 64}, {"lr", 0.02}, {"momentum", 0.8}, {"weight_decay", 1e-3}};

void write(const std::string& path, const json& j) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << j.dump(1);
}

// A nas_search run folder's incumbent.json and config.json; returns the incumbent's path.
std::string write_search(const std::string& dir, const std::string& space, const json& arch,
                         const json& options) {
  write(dir + "/config.json", {{"space", space}, {"space_options", options}, {"epochs", 2}});
  write(dir + "/incumbent.json", {{"trial", 3},
                                  {"score", 71.5},
                                  {"space", space},
                                  {"arch", arch},
                                  {"hp", kHp},
                                  {"text", "-"},
                                  {"train_command", ""}});
  return dir + "/incumbent.json";
}

TrainConfig tiny(const std::string& data_dir, const std::string& arch_file) {
  TrainConfig c;
  c.arch_file = arch_file;
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.epochs = 1;
  c.batch_size = 8;
  c.data.train_subset = 16;
  c.cutout = 8;
  c.seed = 7;
  return c;
}

TrainOptions quiet(const std::string& out, int64_t stop_after = 0) {
  return testing::quiet_options<TrainOptions>(out, stop_after);
}

std::string message(const TrainConfig& c) {
  try {
    dry_run_summary(c);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

int64_t params_line(const std::string& summary) {
  const size_t at = summary.rfind("params: ");
  return std::stoll(summary.substr(at + 8));
}

const space::ImageShape kCifar{3, 32, 10};
const space::ImageShape kFashion{1, 28, 10};

TEST(TrainerSpaces, ChainIncumbentTrainsWithItsSearchsOptions) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const std::string incumbent = write_search(tmp.sub("search"), "chain", kChainArch, kChainOptions);
  const std::string run = tmp.sub("run");
  const TrainResult r = train(tiny(tmp.sub("data"), incumbent), quiet(run));
  ASSERT_TRUE(r.finished);

  // stem 3 -> 8: 216 + BN 16; conv 8 -> 16: 1152 + 32; max pool: 0; sep conv 16 -> 32: depthwise
  // 144 + pointwise 512 + BN 64; classifier 32 -> 10: 330.
  EXPECT_EQ(r.params, 232 + 1184 + 720 + 330);
  const space::ChainSpace searched(space::ChainOptions::from_json(kChainOptions));
  EXPECT_EQ(r.params, searched.count_parameters(kChainArch, kCifar));

  const json config = read_json(run + "/config.json");
  EXPECT_EQ(config["space"], "chain");
  EXPECT_EQ(config["space_arch"], kChainArch);
  EXPECT_EQ(config["space_options"], searched.options().to_json());
  EXPECT_EQ(config["init_channels"], 8);  // the searched stem
  EXPECT_EQ(config["drop_path"], 0);
  EXPECT_EQ(config["layers"], 0);
  EXPECT_EQ(config["arch"], "");
  EXPECT_EQ(config["genotype"], "");
  const json result = read_json(run + "/result.json");
  EXPECT_EQ(result["params"], r.params);
  EXPECT_EQ(result["space"], "chain");
  EXPECT_EQ(result["arch"], kChainArch);
  EXPECT_EQ(read_json(run + "/arch.json"), kChainArch);
  EXPECT_EQ(io::read_file(run + "/arch.txt"), "conv3x3x16/2 max_pool3x3 sep_conv3x3x32\n");
  EXPECT_EQ(testing::json_lines(run, "metrics.jsonl").size(), 1u);
  const auto tensors = testing::checkpoint_tensors(run);
  EXPECT_TRUE(tensors.contains("model.stem.0.weight"));
  EXPECT_TRUE(tensors.contains("model.classifier.weight"));
  EXPECT_NE(io::read_file(run + "/train.log").find("chain architecture of " + incumbent),
            std::string::npos);
}

TEST(TrainerSpaces, MultibranchPointTrainsWithItsSpacesParameterCount) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  write(tmp.sub("mb.json"), kMultiBranchArch);
  TrainConfig c = tiny(tmp.sub("data"), tmp.sub("mb.json"));
  c.space = "multibranch";
  c.space_options = {{"channels", 8}};  // 4 layers: the point's own count
  const TrainResult r = train(c, quiet(tmp.sub("run")));
  ASSERT_TRUE(r.finished);
  const space::MultiBranchSpace space({4, 8});
  EXPECT_EQ(r.params, space.count_parameters(kMultiBranchArch, kCifar));
  const json config = read_json(tmp.sub("run/config.json"));
  EXPECT_EQ(config["space_options"], json({{"layers", 4}, {"channels", 8}}));
  EXPECT_EQ(config["init_channels"], 8);
  EXPECT_EQ(read_json(tmp.sub("run/result.json"))["space"], "multibranch");
}

TEST(TrainerSpaces, StoppedAndResumedChainRunEqualsTheUninterruptedOneBitForBit) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const std::string incumbent = write_search(tmp.sub("search"), "chain", kChainArch, kChainOptions);
  TrainConfig config = tiny(tmp.sub("data"), incumbent);
  config.epochs = 2;
  config.data.train_subset = 24;  // 3 batches per epoch
  const TrainResult whole = train(config, quiet(tmp.sub("whole")));
  ASSERT_TRUE(whole.finished);

  const std::string run = tmp.sub("stopped");
  EXPECT_FALSE(train(config, quiet(run, 2)).finished);
  // The resumed run reads only its config.json: the search folder may be gone.
  fs::remove_all(tmp.sub("search"));
  EXPECT_FALSE(resume(run, quiet("", 4)).finished);
  const TrainResult rest = resume(run, quiet(""));
  ASSERT_TRUE(rest.finished);
  testing::expect_same_tensors(whole.run_dir, run);
  EXPECT_EQ(testing::json_lines(whole.run_dir, "metrics.jsonl"),
            testing::json_lines(run, "metrics.jsonl"));
  EXPECT_EQ(read_json(whole.run_dir + "/result.json"), read_json(run + "/result.json"));
  EXPECT_EQ(whole.test_acc, rest.test_acc);
}

TEST(TrainerSpaces, InitChannelsWidensTheSearchedArchitecture) {
  TempDir tmp;
  const std::string incumbent = write_search(tmp.sub("chain"), "chain", kChainArch, kChainOptions);
  TrainConfig c;
  c.arch_file = incumbent;
  EXPECT_EQ(params_line(dry_run_summary(c)), 88 + 1184 + 720 + 330);
  // Twice the stem doubles every filter count: stem 1 -> 16: 144 + 32; conv 16 -> 32: 4608 + 64;
  // sep conv 32 -> 64: 288 + 2048 + 128; classifier 64 -> 10: 650.
  c.init_channels = 16;
  const std::string wide = dry_run_summary(c);
  EXPECT_EQ(params_line(wide), 176 + 4672 + 2464 + 650);
  EXPECT_NE(wide.find("conv3x3x32/2 max_pool3x3 sep_conv3x3x64"), std::string::npos) << wide;
  EXPECT_NE(wide.find("filters scaled by 16/8"), std::string::npos) << wide;

  const std::string mb = write_search(tmp.sub("mb"), "multibranch", kMultiBranchArch,
                                      {{"layers", 4}, {"channels", 8}});
  c = {};
  c.arch_file = mb;
  EXPECT_EQ(params_line(dry_run_summary(c)),
            space::MultiBranchSpace({4, 8}).count_parameters(kMultiBranchArch, kFashion));
  c.init_channels = 24;
  EXPECT_EQ(params_line(dry_run_summary(c)),
            space::MultiBranchSpace({4, 24}).count_parameters(kMultiBranchArch, kFashion));
}

TEST(TrainerSpaces, AnIncumbentsHyperparametersApplyExceptThoseKept) {
  TempDir tmp;
  TrainConfig c;
  c.arch_file = write_search(tmp.sub("s"), "chain", kChainArch, kChainOptions);
  const std::string copied = adopt_incumbent_hyperparameters(c, {"lr"});
  EXPECT_EQ(copied, "batch size 64, momentum 0.8, weight decay 0.001");
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_EQ(c.sgd.lr, TrainConfig{}.sgd.lr);
  EXPECT_EQ(c.sgd.momentum, 0.8);
  EXPECT_EQ(c.sgd.weight_decay, 1e-3);

  write(tmp.sub("point.json"), kChainArch);
  TrainConfig bare;
  bare.arch_file = tmp.sub("point.json");
  bare.space = "chain";
  EXPECT_EQ(adopt_incumbent_hyperparameters(bare, {}), "");
  EXPECT_EQ(bare.batch_size, TrainConfig{}.batch_size);
}

TEST(TrainerSpaces, ADartsCellIncumbentTrainsAsItsGenotype) {
  TempDir tmp;
  const Genotype g = builtin_genotype("DARTS_V2");
  TrainConfig c;
  c.arch_file = write_search(tmp.sub("s"), "darts-cell", json::parse(g.to_json()),
                             {{"init_channels", 8}, {"cells", 3}});
  c.init_channels = 8;
  c.layers = 5;
  c.auxiliary = 0.4;  // genotype networks keep the head and drop-path
  TrainConfig same = c;
  same.arch_file.clear();
  same.genotype_file = tmp.sub("g.txt");
  std::ofstream(same.genotype_file) << g.to_text();
  EXPECT_EQ(dry_run_summary(c), dry_run_summary(same));
  const TrainConfig r = checked_config(c);
  EXPECT_EQ(r.space, "darts-cell");
  EXPECT_EQ(Genotype::parse_text(r.genotype_text), g);
  EXPECT_EQ(r.drop_path, 0.2);
}

TEST(TrainerSpaces, WhatDoesNotApplyIsRefusedWithOneClearMessage) {
  TempDir tmp;
  const std::string chain = write_search(tmp.sub("chain"), "chain", kChainArch, kChainOptions);
  const auto expect_message = [](const TrainConfig& c, const std::string& part) {
    const std::string m = message(c);
    EXPECT_NE(m.find(part), std::string::npos) << m;
  };
  TrainConfig c;
  c.arch_file = chain;
  c.drop_path = 0.3;
  expect_message(c, "drop-path applies only to genotype networks");
  c.drop_path = 0;  // nothing to drop, nothing refused
  EXPECT_EQ(message(c), "no error");
  c.auxiliary = 0.4;
  expect_message(c, "the auxiliary head exists only in genotype networks, not in a chain network");
  c.auxiliary = 0;
  c.layers = 5;
  expect_message(c, "layers (cells) apply only to genotype networks");
  c.layers = 0;
  c.space = "multibranch";
  expect_message(c, "is an incumbent of the 'chain' space, but the space given is 'multibranch'");
  c.space.clear();
  c.genotype_file = "cell.txt";
  expect_message(c, "a genotype file and an architecture file cannot both");

  write(tmp.sub("point.json"), kMultiBranchArch);
  c = {};
  c.arch_file = tmp.sub("point.json");
  expect_message(c, "is not a nas_search incumbent (it has no \"space\" key)");
  c.space = "multibranch";
  c.init_channels = 9;
  expect_message(c, "init channels of a multibranch network must be even");
  c.init_channels = 0;
  c.space_options = {{"channel", 8}};
  expect_message(c, "unknown key \"channel\"");

  // An incumbent without its search's config.json is read with the space's default options.
  json arch = kChainArch;
  arch["layers"][0]["filters"] = 8;
  write(tmp.sub("lone/incumbent.json"), {{"space", "chain"}, {"arch", arch}});
  c = {};
  c.arch_file = tmp.sub("lone/incumbent.json");
  expect_message(c,
                 "incumbent.json (read with the space's default options; no search config.json "
                 "beside it): chain: layers[0].filters must be one of 16, 32, 64, got 8");
  c.space_options = kChainOptions;
  EXPECT_EQ(message(c), "no error");

  // A config.json of another search beside the incumbent.
  write(tmp.sub("lone/config.json"), {{"space", "multibranch"}});
  expect_message(c, "is a search over the 'multibranch' space, but");

  const std::string dc = write_search(tmp.sub("dc"), "darts-cell",
                                      json::parse(builtin_genotype("DARTS_V1").to_json()), {});
  c = {};
  c.arch_file = dc;
  c.space_options = {{"cells", 3}};
  expect_message(c, "space options do not apply to a genotype");
  c = {};
  c.arch_file = tmp.sub("missing.json");
  expect_message(c, "cannot open architecture file");
}

TEST(TrainerSpaces, ConfigJsonRoundTripsAndOldConfigsStillLoad) {
  TempDir tmp;
  TrainConfig c;
  c.arch_file = write_search(tmp.sub("s"), "chain", kChainArch, kChainOptions);
  c.init_channels = 16;
  const TrainConfig r = checked_config(c);
  fs::remove_all(tmp.sub("s"));  // resolved, the config no longer needs the files
  const TrainConfig back = checked_config(train_config_from_json(to_json(r)));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_EQ(back.init_channels, 16);
  EXPECT_THROW(train_config_from_json({{"space_archs", kChainArch}}), Error);

  // A config.json written before architecture files existed.
  const json old = {{"arch", "DARTS_V2"},
                    {"genotype_file", ""},
                    {"genotype", ""},
                    {"init_channels", 16},
                    {"layers", 8},
                    {"dataset", "fashion-mnist"},
                    {"data_dir", ""},
                    {"train_subset", 0},
                    {"test_subset", 0},
                    {"epochs", 10},
                    {"batch_size", 96},
                    {"lr", 0.05},
                    {"lr_min", 0},
                    {"momentum", 0.9},
                    {"weight_decay", 3e-4},
                    {"grad_clip", 5},
                    {"cutout", 0},
                    {"auxiliary", 0},
                    {"drop_path", 0.2},
                    {"crop_padding", 0},
                    {"flip", 0},
                    {"seed", 0}};
  const TrainConfig o = checked_config(train_config_from_json(old));
  EXPECT_TRUE(o.is_genotype_network());
  EXPECT_EQ(Genotype::parse_text(o.genotype_text), builtin_genotype("DARTS_V2"));
  EXPECT_EQ(o.init_channels, 16);
  EXPECT_EQ(o.layers, 8);
  EXPECT_EQ(o.drop_path, 0.2);
  // And the defaults resolve to the same network.
  EXPECT_EQ(to_json(checked_config(TrainConfig{})), to_json(o));
}

}  // namespace
}  // namespace fusenas::nas
