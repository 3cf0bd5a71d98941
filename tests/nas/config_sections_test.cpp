// The configs in sections (supernet, data, SGD, Adam, strategy) keep config.json as it was: the
// keys every app wrote before the sections, their defaults, each key read into its field, and the
// errors. The Adam section added keys (eps; ENAS's controller betas and weight decay): an old file
// loads with their defaults, which are the values the code had fixed before.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/darts/search_config.h"
#include "fusenas/nas/enas/search_config.h"
#include "fusenas/nas/search/search_config.h"
#include "fusenas/nas/train/train_config.h"

namespace fusenas::nas {
namespace {

using json = nlohmann::json;

// Every value of an old config.json changed, each key by its own amount, so that a key read into
// another key's field shows.
json changed(const json& old) {
  json j = old;
  int i = 1;
  for (auto& [key, v] : j.items()) {
    if (v.is_boolean()) {
      v = !v.get<bool>();
    } else if (v.is_number_float()) {
      v = v.get<double>() + 0.125 * i;
    } else if (v.is_number()) {
      v = v.get<int64_t>() + i;
    } else if (v.is_string()) {
      v = v.get<std::string>() + "-" + std::to_string(i);
    } else {
      v = json{{"changed", i}};  // ops, space options, space_arch: any JSON reads back
    }
    if (key == "ops") v = json{"skip_connect", "sep_conv_3x3"};
    ++i;
  }
  return j;
}

// The error's sentence, without the file:line FUSENAS_CHECK appends.
template <typename Config>
std::string message(Config (*from_json)(const json&), const json& j) {
  try {
    from_json(j);
  } catch (const Error& e) {
    const std::string m = e.what();
    return m.substr(0, m.rfind(" ["));
  }
  return "no error";
}

// The config.json of each app's defaults as it was before the sections: every key, every value.
const json kOldDarts = json::parse(R"({
  "preset": "paper", "channels": 16, "cells": 8, "nodes": 4, "ops": [],
  "dataset": "fashion-mnist", "data_dir": "", "train_subset": 0, "train_portion": 0.5,
  "crop_padding": -1, "flip": -1, "epochs": 50, "batch_size": 64,
  "lr": 0.025, "lr_min": 0.001, "momentum": 0.9, "weight_decay": 0.0003, "grad_clip": 5.0,
  "order": 1, "warmup_epochs": 0,
  "arch_lr": 0.0003, "arch_beta1": 0.5, "arch_beta2": 0.999, "arch_weight_decay": 0.001,
  "seed": 0})");

const json kOldEnas = json::parse(R"({
  "space": "micro", "preset": "paper", "channels": 20, "cells": 8, "nodes": 5,
  "dataset": "fashion-mnist", "data_dir": "", "train_subset": 0, "train_portion": 0.9,
  "crop_padding": -1, "flip": -1, "epochs": 150, "batch_size": 160,
  "lr": 0.05, "lr_min": 0.0005, "lr_t0": 10, "lr_tmul": 2, "momentum": 0.9, "nesterov": true,
  "weight_decay": 0.0001, "grad_clip": 5.0,
  "controller_steps": 30, "samples_per_step": 10, "controller_lr": 0.0035,
  "controller_hidden": 64, "entropy_weight": 0.0001, "baseline_decay": 0.99,
  "tanh_constant": 1.1, "op_tanh_reduce": 2.5, "skip_target": 0.4, "skip_weight": 0.8,
  "derive_samples": 100, "seed": 0})");

const json kOldTrain = json::parse(R"({
  "arch": "DARTS_V2", "genotype_file": "", "arch_file": "", "space": "", "space_options": {},
  "genotype": "", "space_arch": null, "init_channels": 0, "layers": 0,
  "dataset": "fashion-mnist", "data_dir": "", "train_subset": 0, "test_subset": 0,
  "epochs": 10, "batch_size": 96,
  "lr": 0.05, "lr_min": 0.0, "momentum": 0.9, "weight_decay": 0.0003, "grad_clip": 5.0,
  "cutout": 0, "auxiliary": 0.0, "drop_path": -1.0, "crop_padding": -1, "flip": -1,
  "seed": 0})");

const json kOldSearch = json::parse(R"({
  "preset": "quick", "strategy": "random", "space": "chain", "space_options": {},
  "hpo": "off", "hpo_share": 0.25, "budget_trials": 20, "budget_minutes": 0.0, "epochs": 3,
  "dataset": "fashion-mnist", "data_dir": "", "train_subset": 10000, "train_portion": 0.5,
  "crop_padding": -1, "flip": -1, "batch_size": 96,
  "lr": 0.05, "lr_min": 0.0, "momentum": 0.9, "weight_decay": 0.0003, "grad_clip": 5.0,
  "population": 0, "tournament": 0, "bo_init": 0, "acquisition": "ei", "seed": 0})");

// The keys the Adam sections added, with the values DARTS's architect and ENAS's controller had
// hard-coded: eps 1e-8 (torch's default) and tf.train.AdamOptimizer(lr, beta1=0, epsilon=1e-3).
const json kAddedDarts = {{"arch_eps", 1e-8}};
const json kAddedEnas = {{"controller_beta1", 0.0},
                         {"controller_beta2", 0.999},
                         {"controller_eps", 1e-3},
                         {"controller_weight_decay", 0.0}};

// nas_search's estimator section and the reference strategy's run folder (issue 13): the
// defaults are the search as it ran before them (every trial trains all its epochs, full-size
// images).
const json kAddedSearch = {
    {"estimator", "full"},     {"downscale", 1},          {"model_scale", 1.0},
    {"curve_min_epochs", 3},   {"curve_threshold", 0.05}, {"eta", 3},
    {"min_epochs", 1},         {"supernet_epochs", 10},   {"predictor", ""},
    {"reference", ""},         {"rl_children", 0},        {"rl_lr", 6e-4},
    {"rl_reward", "accuracy"}, {"parallel", "async"},     {"trial_time_limit", 0.0}};

json with_added(json old, const json& added) {
  for (const auto& [key, v] : added.items()) {
    EXPECT_FALSE(old.contains(key)) << key;
    old[key] = v;
  }
  return old;
}

TEST(ConfigSections, EveryAppWritesTheKeysAndDefaultsItAlwaysHas) {
  EXPECT_EQ(to_json(DartsConfig{}), with_added(kOldDarts, kAddedDarts));
  EXPECT_EQ(enas::to_json(enas::EnasConfig{}), with_added(kOldEnas, kAddedEnas));
  EXPECT_EQ(to_json(TrainConfig{}), kOldTrain);
  EXPECT_EQ(to_json(BlackBoxConfig{}), with_added(kOldSearch, kAddedSearch));
}

TEST(ConfigSections, AnOldDartsConfigLoadsIntoTheSections) {
  const json old = changed(kOldDarts);
  const DartsConfig c = darts_config_from_json(old);
  EXPECT_EQ(to_json(c), with_added(old, kAddedDarts));
  EXPECT_EQ(c.supernet.channels, old["channels"]);
  EXPECT_EQ(c.supernet.cells, old["cells"]);
  EXPECT_EQ(c.supernet.nodes, old["nodes"]);
  EXPECT_EQ(*c.supernet.ops, old["ops"].get<std::vector<std::string>>());
  EXPECT_EQ(c.data.dataset, old["dataset"].get<std::string>());
  EXPECT_EQ(c.data.train_portion, old["train_portion"].get<double>());
  EXPECT_EQ(c.data.flip, old["flip"]);
  EXPECT_EQ(c.sgd.lr, old["lr"]);
  EXPECT_EQ(c.sgd.grad_clip, old["grad_clip"]);
  EXPECT_EQ(c.arch.lr, old["arch_lr"]);
  EXPECT_EQ(c.arch.beta2, old["arch_beta2"]);
  EXPECT_EQ(c.architect().weight_decay, old["arch_weight_decay"]);
  EXPECT_EQ(c.architect().order, old["order"]);
}

TEST(ConfigSections, AnOldEnasConfigLoadsIntoTheSections) {
  const json old = changed(kOldEnas);
  const enas::EnasConfig c = enas::enas_config_from_json(old);
  EXPECT_EQ(enas::to_json(c), with_added(old, kAddedEnas));
  EXPECT_EQ(c.supernet.channels, old["channels"]);
  EXPECT_EQ(c.supernet.nodes, old["nodes"]);
  EXPECT_FALSE(c.supernet.ops.has_value());  // ENAS's micro space has its own ops
  EXPECT_EQ(c.controller_adam.lr, old["controller_lr"]);
  EXPECT_EQ(c.reinforce().lr, old["controller_lr"]);
  EXPECT_EQ(c.reinforce().beta1, 0.0);
  EXPECT_EQ(c.reinforce().eps, 1e-3);
  EXPECT_EQ(c.data.data_dir, old["data_dir"].get<std::string>());
  EXPECT_EQ(c.data.train_portion, old["train_portion"].get<double>());
  EXPECT_EQ(c.data.crop_padding, old["crop_padding"]);
  EXPECT_EQ(c.sgd.lr_min, old["lr_min"]);
  EXPECT_EQ(c.sgd.momentum, old["momentum"]);
  EXPECT_EQ(c.sgd_weight_decay(), 2 * old["weight_decay"].get<double>());
  EXPECT_EQ(c.nesterov, old["nesterov"]);
}

TEST(ConfigSections, AnOldTrainConfigLoadsIntoTheSections) {
  const json old = changed(kOldTrain);
  const TrainConfig c = train_config_from_json(old);
  EXPECT_EQ(to_json(c), old);
  EXPECT_EQ(c.data.train_subset, old["train_subset"]);
  EXPECT_FALSE(c.data.train_portion.has_value());  // nas_train does not split
  EXPECT_EQ(c.test_subset, old["test_subset"]);
  EXPECT_EQ(c.sgd.weight_decay, old["weight_decay"]);
  EXPECT_EQ(c.genotype_text, old["genotype"].get<std::string>());
  EXPECT_EQ(c.space_arch, old["space_arch"]);
}

TEST(ConfigSections, AnOldSearchConfigLoadsIntoTheSections) {
  const json old = changed(kOldSearch);
  const BlackBoxConfig c = blackbox_config_from_json(old);
  EXPECT_EQ(to_json(c), with_added(old, kAddedSearch));
  EXPECT_EQ(c.strategy.name, old["strategy"].get<std::string>());
  EXPECT_EQ(c.strategy.population, old["population"]);
  EXPECT_EQ(c.strategy.acquisition, old["acquisition"].get<std::string>());
  EXPECT_EQ(c.data.train_subset, old["train_subset"]);
  EXPECT_EQ(c.sgd.lr, old["lr"]);
  EXPECT_EQ(c.search_data(7).batch_size, 7);
  EXPECT_EQ(c.search_data(7).data.train_portion, old["train_portion"].get<double>());
}

TEST(ConfigSections, UnknownKeysAndWrongTypesStillNameTheKey) {
  EXPECT_EQ(message(darts_config_from_json, {{"lr", "fast"}}),
            "search config: key 'lr' is string \"fast\", but must be a number");
  EXPECT_EQ(message(enas::enas_config_from_json, {{"arch_lr", 0.1}}),
            "search config: unknown key 'arch_lr'");
  // nas_train trains on all its images: a split is no key of its.
  EXPECT_EQ(message(train_config_from_json, {{"train_portion", 0.5}}),
            "training config: unknown key 'train_portion'");
  EXPECT_EQ(message(train_config_from_json, {{"flip", true}}),
            "training config: key 'flip' is boolean true, which its number field cannot hold (it "
            "would become 1)");
  EXPECT_EQ(message(blackbox_config_from_json, {{"population", 1.5}}),
            "config: key 'population' is number 1.5, which its number field cannot hold (it "
            "would become 1)");
  EXPECT_EQ(message(blackbox_config_from_json, {{"strategy", {{"name", "bo"}}}}),
            "config: key 'strategy' is object {\"name\":\"bo\"}, but must be a string");
}

TEST(ConfigSections, EachSectionNamesItsBadValue) {
  const auto error = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  DataSection d{.train_portion = 1.0};
  EXPECT_NE(error([&] { d.validate(); }).find("train portion must lie strictly between 0 and 1"),
            std::string::npos);
  d = {.dataset = "cifar10", .crop_padding = 33};
  EXPECT_NE(error([&] { d.validate(); }).find("crop padding must lie in [0, 32] pixels, got 33"),
            std::string::npos);
  EXPECT_EQ(DataSection{.dataset = "cifar10"}.resolved().flip, 1);
  SgdSection s{.lr = 0.1, .lr_min = 0.2};
  EXPECT_NE(error([&] { s.validate(); }).find("lr-min must lie in [0, lr = 0.1], got 0.2"),
            std::string::npos);
  AdamSection a{.beta2 = 1.0};
  EXPECT_NE(error([&] { a.validate("arch"); }).find("arch betas must lie in [0, 1)"),
            std::string::npos);
  a = {.eps = 0};
  EXPECT_NE(error([&] { a.validate("controller"); }).find("controller eps must be positive, got 0"),
            std::string::npos);
  SupernetSection n{.cells = 0};
  EXPECT_NE(error([&] { n.validate(); }).find("cells must be at least 1, got 0"),
            std::string::npos);
  StrategySection st{.name = "annealing"};
  EXPECT_NE(error([&] { st.validate(); }).find("unknown strategy 'annealing'"), std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas
