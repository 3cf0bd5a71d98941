// ENAS search runs (nas_enas's library): a search stopped and resumed ends bit-for-bit equal to
// the uninterrupted one in both spaces (sampled children's rows with their step's baseline and
// entropy included), seeded searches repeat, the run folder holds what the docs promise, the
// exported genotype trains in nas_train's network, a sampled child's gradients land only on its
// own ops of the one shared network, and bad configs fail clearly. Runs use a tiny CIFAR-10 set
// the test writes itself.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/enas/search.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/run/run_config.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::enas {
namespace {

namespace fs = std::filesystem;
using testing::json_lines;
using testing::read_json;
using testing::TempDir;

// 40 training images split 20/20, batches of 8: 3 shared steps per epoch (the last one short) and
// 2 controller steps of 2 samples, with CIFAR's crop and flip on, Nesterov momentum, weight
// decay, clipping and an lr restart after the first epoch.
EnasConfig tiny_config(const std::string& data_dir, const std::string& space) {
  EnasConfig c = enas_preset("quick", space);
  c.supernet.channels = 4;
  c.supernet.cells = space == "micro" ? 3 : 4;
  c.supernet.nodes = 3;
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.data.train_subset = 0;
  c.data.train_portion = 0.5;
  c.batch_size = 8;
  c.epochs = 2;
  c.lr_t0 = 1;
  c.controller_steps = 2;
  c.samples_per_step = 2;
  c.derive_samples = 3;
  c.seed = 7;
  return c;
}

EnasOptions quiet(const std::string& out, int64_t stop_after = 0) {
  return testing::quiet_options<EnasOptions>(out, stop_after);
}

std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Every sampled_archs.jsonl row carries its controller step's baseline and entropy, the same on
// all rows of a step; they agree with metrics.jsonl: the epoch's baseline is its last step's and
// its entropy the mean of its steps'.
void expect_step_statistics(const std::string& run) {
  const auto samples = json_lines(run, "sampled_archs.jsonl");
  for (const auto& m : json_lines(run, "metrics.jsonl")) {
    std::map<int, std::pair<double, double>> steps;  // step: baseline, entropy
    for (const auto& s : samples) {
      if (s["epoch"] != m["epoch"]) continue;
      ASSERT_TRUE(s.contains("step_baseline") && s.contains("step_entropy")) << s.dump();
      const std::pair<double, double> stats = {s["step_baseline"], s["step_entropy"]};
      const auto [it, first] = steps.emplace(s["step"].get<int>(), stats);
      if (!first) {
        EXPECT_EQ(it->second, stats) << s.dump();
      }
    }
    ASSERT_EQ(steps.size(), 2u) << m.dump();
    EXPECT_EQ(steps.rbegin()->second.first, m["baseline"].get<double>());
    EXPECT_DOUBLE_EQ((steps[1].second + steps[2].second) / 2, m["entropy"].get<double>());
  }
}

class EnasResume : public ::testing::TestWithParam<std::string> {};

TEST_P(EnasResume, StoppedAndResumedSearchEqualsTheUninterruptedOneBitForBit) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const EnasConfig config = tiny_config(tmp.sub("data"), GetParam());
  const EnasResult whole = enas_search(config, quiet(tmp.sub("whole")));
  ASSERT_TRUE(whole.finished);

  // 5 steps an epoch (3 shared, 2 controller): stops mid-shared-training in epoch 1, then
  // mid-controller-training in epoch 2, then runs to the end.
  const std::string run = tmp.sub("stopped");
  EnasResult part = enas_search(config, quiet(run, 2));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(read_json(run + "/checkpoint.json")["batch"], 2);
  part = enas_resume(run, quiet("", 9));
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.epochs_done, 1);
  EXPECT_EQ(read_json(run + "/checkpoint.json")["controller_step"], 1);
  const EnasResult rest = enas_resume(run, quiet(""));
  ASSERT_TRUE(rest.finished);

  testing::expect_same_tensors(whole.run_dir, run);
  for (const char* f : {"metrics.jsonl", "sampled_archs.jsonl", "derived.jsonl"})
    EXPECT_EQ(json_lines(whole.run_dir, f), json_lines(run, f)) << f;
  EXPECT_EQ(json_lines(run, "sampled_archs.jsonl").size(), 8u);
  expect_step_statistics(run);
  EXPECT_EQ(whole.arch, rest.arch);
  EXPECT_EQ(whole.val_acc, rest.val_acc);
  EXPECT_EQ(io::read_file(whole.run_dir + "/arch.json"), io::read_file(run + "/arch.json"));
  auto result_of = [](const std::string& dir) {
    auto j = read_json(dir + "/result.json");
    j.erase("train_command");  // names the run folder
    return j;
  };
  EXPECT_EQ(result_of(whole.run_dir), result_of(run));
}

INSTANTIATE_TEST_SUITE_P(Space, EnasResume, ::testing::Values("micro", "macro"),
                         [](const auto& info) { return info.param; });

TEST(EnasSearch, SeededSearchesRepeatAndOtherSeedsDiffer) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  EnasConfig config = tiny_config(tmp.sub("data"), "micro");
  config.epochs = 1;
  enas_search(config, quiet(tmp.sub("a")));
  enas_search(config, quiet(tmp.sub("b")));
  testing::expect_same_tensors(tmp.sub("a"), tmp.sub("b"));
  EXPECT_EQ(json_lines(tmp.sub("a"), "sampled_archs.jsonl"),
            json_lines(tmp.sub("b"), "sampled_archs.jsonl"));
  config.seed = 8;
  enas_search(config, quiet(tmp.sub("c")));
  EXPECT_NE(json_lines(tmp.sub("a"), "sampled_archs.jsonl"),
            json_lines(tmp.sub("c"), "sampled_archs.jsonl"));
}

TEST(EnasSearch, MicroRunFolderHoldsEverythingAndItsGenotypeTrainsInTheEvalNetwork) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const EnasResult r = enas_search(tiny_config(tmp.sub("data"), "micro"), quiet(tmp.sub("run")));
  const std::string run = r.run_dir;
  for (const char* f : {"config.json", "metrics.jsonl", "sampled_archs.jsonl", "derived.jsonl",
                        "arch.json", "arch.txt", "genotype.txt", "genotype.json", "normal.dot",
                        "reduce.dot", "search.log", "result.json", "checkpoint.json"})
    EXPECT_TRUE(fs::exists(run + "/" + f)) << f;
  EXPECT_EQ(enas_config_from_json(read_json(run + "/config.json")).supernet.channels, 4);
  const auto metrics = json_lines(run, "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 2u);
  for (const char* k : {"epoch", "shared_loss", "shared_acc", "lr", "mean_reward", "baseline",
                        "entropy", "best_reward", "best_arch"})
    EXPECT_TRUE(metrics[1].contains(k)) << k;
  // lr_t0 = 1: every epoch starts a fresh cosine cycle at the full lr.
  EXPECT_EQ(metrics[1]["lr"].get<double>(), 0.05);
  const auto samples = json_lines(run, "sampled_archs.jsonl");
  ASSERT_EQ(samples.size(), 8u);  // 2 epochs x 2 steps x 2 samples
  for (const auto& s : samples) {
    EXPECT_GE(s["reward"].get<double>(), 0.0);
    EXPECT_LE(s["reward"].get<double>(), 1.0);
    EXPECT_NO_THROW(MicroArch::from_json(s["arch"].dump()));
  }
  EXPECT_EQ(json_lines(run, "derived.jsonl").size(), 3u);

  const MicroArch arch = MicroArch::from_json(io::read_file(run + "/arch.json"));
  ASSERT_TRUE(r.arch.has_value());
  EXPECT_EQ(std::get<MicroArch>(*r.arch), arch);
  const Genotype g = Genotype::parse_text(io::read_file(run + "/genotype.txt"));
  EXPECT_EQ(g, Genotype::from_json(io::read_file(run + "/genotype.json")));
  EXPECT_EQ(g, to_genotype(arch));
  EXPECT_EQ(micro_arch_from_genotype(g), arch);
  EXPECT_EQ(io::read_file(run + "/arch.txt"), arch.to_text());
  EXPECT_NE(io::read_file(run + "/normal.dot").find("digraph"), std::string::npos);
  const auto result = read_json(run + "/result.json");
  EXPECT_EQ(result["val_acc"].get<double>(), r.val_acc);
  EXPECT_EQ(result["train_command"], r.train_command);
  EXPECT_EQ(r.train_command.rfind("nas_train --genotype " + run + "/genotype.txt", 0), 0u);

  // What nas_train builds from the file: a few SGD steps on one batch lower its loss.
  EvalNetworkConfig ec;
  ec.genotype = load_genotype_file(run + "/genotype.txt");
  ec.init_channels = 4;
  ec.layers = 3;
  Generator gen(3);
  EvalNetwork net(ec, gen);
  optim::SGD sgd(net.parameters(), 0.05, 0.9);
  const Tensor x = fusenas::normal({8, 32, 32, 3}, 0, 1, gen);
  const Tensor y = randint({8}, 0, 10, gen);
  double first = 0, last = 0;
  for (int step = 0; step < 8; ++step) {
    sgd.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, first);
}

TEST(EnasSearch, MacroRunFolderHoldsTheArchitecture) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  EnasConfig c = tiny_config(tmp.sub("data"), "macro");
  c.epochs = 1;
  const EnasResult r = enas_search(c, quiet(tmp.sub("run")));
  ASSERT_TRUE(r.finished);
  for (const char* f : {"arch.json", "arch.txt", "arch.dot", "result.json", "sampled_archs.jsonl"})
    EXPECT_TRUE(fs::exists(r.run_dir + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(r.run_dir + "/genotype.txt"));
  const MacroArch arch = MacroArch::from_json(io::read_file(r.run_dir + "/arch.json"));
  EXPECT_EQ(arch.num_layers(), 4);
  EXPECT_EQ(std::get<MacroArch>(*r.arch), arch);
  EXPECT_TRUE(r.train_command.empty());
  EXPECT_TRUE(json_lines(r.run_dir, "metrics.jsonl")[0].contains("skip_rate"));
}

// The parameter-name prefixes of the ops `choice` runs in cell `cell` of a micro supernet.
void add_chosen(const nas::SearchSpace& space, int cell, const CellChoice& choice,
                std::set<std::string>& out) {
  for (int node = 0; node < space.nodes; ++node) {
    for (const auto& [input, op] : choice.nodes[node])
      out.insert(fmt::format("cells_{}.edge_{}.{}.", cell, space.edge_index(node, input), op));
  }
}

// Every parameter of an op candidate (its name holds `marker`) has a gradient exactly when its
// op ran.
void expect_grads_on_chosen_only(const nn::Module& net, const std::string& marker,
                                 const std::set<std::string>& chosen) {
  int with_grad = 0, candidates = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    if (name.find(marker) == std::string::npos) continue;
    ++candidates;
    const bool ran = std::any_of(chosen.begin(), chosen.end(),
                                 [&](const std::string& c) { return name.rfind(c, 0) == 0; });
    EXPECT_EQ(p.grad().defined(), ran) << name;
    with_grad += ran;
  }
  EXPECT_GT(with_grad, 0);
  EXPECT_LT(with_grad, candidates);
}

TEST(EnasChild, MicroSampleTrainsOnlyItsOwnOpsOfTheOneSupernet) {
  Generator gen(5);
  const nas::SearchSpace space = micro_search_space(3, 5, 4, 3, 16, 10);
  Supernet net(space, gen);
  const int64_t params = static_cast<int64_t>(net.parameters().size());
  ControllerConfig cc = ControllerConfig::micro();
  Controller controller(cc, gen);
  const Tensor x = fusenas::normal({4, 16, 16, 3}, 0, 1, gen);
  const Tensor y = randint({4}, 0, 10, gen);
  for (int trial = 0; trial < 2; ++trial) {
    MicroArch arch;
    {
      const NoGradGuard no_grad;
      arch = controller.sample_micro(gen).micro();
    }
    const MicroChoice c = micro_choice(space, arch);
    net.zero_grad();
    cross_entropy(net.forward_sampled(x, c.normal, c.reduce), y).backward();
    std::set<std::string> chosen;
    for (int cell = 0; cell < space.cells; ++cell)
      add_chosen(space, cell, space.is_reduction(cell) ? c.reduce : c.normal, chosen);
    expect_grads_on_chosen_only(net, ".edge_", chosen);
    // Samples share the supernet's own tensors: nothing was added or copied.
    EXPECT_EQ(static_cast<int64_t>(net.parameters().size()), params);
  }
}

TEST(EnasChild, MacroSampleTrainsOnlyItsOwnOpsOfTheOneNetwork) {
  Generator gen(6);
  MacroSupernet net({6, 4, 3, 10}, gen);
  EXPECT_TRUE(net.space().reduces_after(1));
  EXPECT_TRUE(net.space().reduces_after(3));
  ControllerConfig cc = ControllerConfig::macro();
  cc.num_layers = 6;
  Controller controller(cc, gen);
  const Tensor x = fusenas::normal({4, 16, 16, 3}, 0, 1, gen);
  const Tensor y = randint({4}, 0, 10, gen);
  MacroArch arch;
  {
    const NoGradGuard no_grad;
    arch = controller.sample_macro(gen).macro();
  }
  // The last layer reads every earlier output, so every reduction runs.
  arch.layers.back().skips.assign(arch.layers.size() - 1, true);
  cross_entropy(net.forward_sampled(x, arch), y).backward();
  std::set<std::string> chosen;
  for (int l = 0; l < arch.num_layers(); ++l)
    chosen.insert(fmt::format("layer_{}.{}.", l, static_cast<int>(arch.layers[l].op)));
  expect_grads_on_chosen_only(net, "layer_", chosen);
  for (const auto& [name, p] : net.named_parameters()) {
    if (name.find("layer_") == std::string::npos) {
      EXPECT_TRUE(p.grad().defined()) << name;
    }
  }
  EXPECT_THROW(net.forward_sampled(x, MacroArch{{MacroLayer{}}}), Error);
}

TEST(EnasSearch, BadConfigsAndRunFoldersFailWithOneClearMessage) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  EnasConfig c = tiny_config(tmp.sub("data"), "micro");
  c.data.data_dir = tmp.sub("nowhere");
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("x"))); }).find("does not exist"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.sub("x")));
  c = tiny_config(tmp.sub("data"), "micro");
  c.space = "mega";
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("y"))); }).find("unknown space 'mega'"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), "macro");
  c.supernet.channels = 5;
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("y"))); }).find("channels must be even"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), "micro");
  c.derive_samples = 0;
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("y"))); }).find("derive samples"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), "micro");
  c.baseline_decay = 1.0;
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("y"))); }).find("baseline_decay"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), "micro");
  c.lr_tmul = 0;
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("y"))); }).find("lr-tmul"),
            std::string::npos);
  EXPECT_NE(message([] { enas_preset("huge"); }).find("unknown preset"), std::string::npos);
  EXPECT_NE(message([] { enas_preset("quick", "mega"); }).find("unknown space"), std::string::npos);
  EXPECT_NE(message([&] { enas_resume(tmp.sub("none"), quiet("")); }).find("cannot resume"),
            std::string::npos);
  c = tiny_config(tmp.sub("data"), "micro");
  c.epochs = 1;
  enas_search(c, quiet(tmp.sub("done")));
  EXPECT_NE(message([&] { enas_search(c, quiet(tmp.sub("done"))); }).find("already holds a run"),
            std::string::npos);
  // A config.json edited to the other space does not load the micro checkpoint.
  auto edited = read_json(tmp.sub("done") + "/config.json");
  edited["space"] = "macro";
  io::write_file_atomic(tmp.sub("done") + "/config.json", edited.dump());
  EXPECT_NE(message([&] { enas_resume(tmp.sub("done"), quiet("")); }).find("micro space"),
            std::string::npos);
  EXPECT_NE(message([] {
              enas_config_from_json({{"chanels", 3}});
            }).find("unknown key"),
            std::string::npos);
}

// ENAS's loss adds lambda * sum w^2 (a gradient of 2 lambda w), its macro rewards use the moving
// BN averages, and its reward batches are not augmented: every reward image is a search-val image
// as it is, while DARTS's search-val batches are cropped and flipped like its training batches.
TEST(EnasSearch, FollowsEnassDecayRewardStatisticsAndPlainRewardBatches) {
  EnasConfig c = enas_preset("quick", "micro");
  c.sgd.weight_decay = 1.5e-4;
  EXPECT_DOUBLE_EQ(c.sgd_weight_decay(), 3e-4);
  EXPECT_TRUE(c.rewards_use_batch_statistics());
  EXPECT_FALSE(enas_preset("quick", "macro").rewards_use_batch_statistics());

  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const EnasConfig enas = tiny_config(tmp.sub("data"), "micro").resolved();
  ASSERT_EQ(enas.data.crop_padding, 4);
  ASSERT_EQ(enas.data.flip, 1);
  const data::Dataset data = data::load_cifar10(tmp.sub("data"), true);
  auto images_of = [](data::DataLoader& loader, int batches) {
    std::set<std::vector<float>> images;
    for (int b = 0; b < batches; ++b) {
      const data::Batch batch = loader.next();
      const int64_t n = batch.images.size(0), per = batch.images.numel() / n;
      const std::vector<float> all = batch.images.to_vector<float>();
      for (int64_t i = 0; i < n; ++i)
        images.insert(std::vector<float>(all.begin() + i * per, all.begin() + (i + 1) * per));
    }
    return images;
  };
  SearchLoaders plain = make_search_loaders(data, enas.search_data());
  const auto reference = images_of(*plain.eval, static_cast<int>(plain.eval->batches_per_epoch()));
  for (const auto& image : images_of(*plain.val, 6)) EXPECT_TRUE(reference.count(image));
  SearchDataConfig darts_like = enas.search_data();
  darts_like.augment_val = true;
  SearchLoaders augmented = make_search_loaders(data, darts_like);
  int changed = 0;
  for (const auto& image : images_of(*augmented.val, 6)) changed += !reference.count(image);
  EXPECT_GT(changed, 0);
}

TEST(EnasSearch, PresetsCarryThePapersSettings) {
  const EnasConfig micro = enas_preset("paper", "micro");
  EXPECT_EQ(micro.supernet.channels, 20);
  EXPECT_EQ(micro.supernet.cells, 8);  // ENAS's 6 layers plus its 2 reduction cells
  EXPECT_EQ(micro.supernet.nodes, 5);
  EXPECT_EQ(micro.batch_size, 160);
  EXPECT_EQ(micro.epochs, 150);
  EXPECT_EQ(micro.controller_steps, 30);
  EXPECT_EQ(micro.samples_per_step, 10);
  EXPECT_EQ(micro.derive_samples, 100);
  EXPECT_EQ(micro.controller_adam.lr, 3.5e-3);
  EXPECT_EQ(micro.entropy_weight, 1e-4);
  EXPECT_EQ(micro.baseline_decay, 0.99);
  EXPECT_EQ(micro.controller().op_tanh_reduce, 2.5);
  const EnasConfig macro = enas_preset("paper", "macro");
  EXPECT_EQ(macro.supernet.cells, 12);
  EXPECT_EQ(macro.controller().tanh_constant, 1.5);
  EXPECT_EQ(macro.reinforce().skip_weight, 0.8);
  EXPECT_EQ(macro.controller().skip_target, 0.4);
  // Cosine 0.05 -> 0.0005 with restarts after 10, 20, 40 and 80 epochs (150 in all).
  EXPECT_EQ(micro.lr_at(0), 0.05);
  EXPECT_NEAR(micro.lr_at(5), 0.02525, 1e-12);
  EXPECT_EQ(micro.lr_at(10), 0.05);
  EXPECT_NEAR(micro.lr_at(20), 0.02525, 1e-12);
  EXPECT_EQ(micro.lr_at(30), 0.05);
  EXPECT_EQ(micro.lr_at(70), 0.05);
  EXPECT_LT(micro.lr_at(149), 0.0006);
  for (const char* space : {"micro", "macro"}) {
    EXPECT_NO_THROW(enas_preset("quick", space).validate());
    const EnasConfig round = enas_config_from_json(to_json(enas_preset("quick", space)));
    EXPECT_EQ(to_json(round), to_json(enas_preset("quick", space)));
  }
}

}  // namespace
}  // namespace fusenas::nas::enas
