// One-shot scoring (estimate/one_shot.h): the shared path computes the candidate's own network
// (weights copied into the standalone network), training lowers sampled candidates' loss,
// checkpoints round-trip and resume exactly, scores are deterministic, and errors are clear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/estimate/chain_supernet.h"
#include "fusenas/nas/estimate/one_shot.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/space/chain_network.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/space/macro_network.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/supernet.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::estimate {
namespace {

using fusenas::testing::expect_error;
using fusenas::testing::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

// Tensors this small run fastest on one thread (and the test shares the machine).
const bool kOneThread = [] {
  set_num_threads(1);
  return true;
}();

constexpr int64_t kSize = 8;  // image side: two reductions of even maps
const space::ImageShape kShape{1, kSize, 10};

// Small spaces of each kind, their supernets a few thousand weights.
struct SpaceCase {
  std::string name;
  Json options;
};
const std::vector<SpaceCase>& cases() {
  static const std::vector<SpaceCase> c = {
      {"multibranch", {{"layers", 6}, {"channels", 4}}},
      {"darts-cell", {{"nodes", 2}, {"cells", 3}, {"init_channels", 4}}},
      {"chain",
       {{"max_layers", 4},
        {"filters", {4, 8}},
        {"kernels", {3, 5}},
        {"stem_channels", 6},
        {"max_reductions", 2}}},
  };
  return c;
}

// 8x8 grey images whose brightness grows with the label, plus noise: learnable in a few steps.
data::Dataset tiny_data(int64_t n) {
  data::Dataset ds;
  ds.name = "tiny";
  ds.num_classes = 10;
  ds.mean = {0.4f};
  ds.std = {0.25f};
  ds.images = Tensor::empty({n, kSize, kSize, 1}, TensorOptions{}.with_dtype(DType::UInt8));
  ds.labels = Tensor::empty({n}, TensorOptions{}.with_dtype(DType::Int64));
  Generator gen(5);
  uint8_t* p = ds.images.data<uint8_t>();
  int64_t* l = ds.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    l[i] = gen.next_int(0, 10);
    for (int64_t k = 0; k < kSize * kSize; ++k)
      p[i * kSize * kSize + k] = static_cast<uint8_t>(gen.next_int(0, 100) + 15 * l[i]);
  }
  return ds;
}

// search-train (the first `train_images`, batches of 16: 10 steps per epoch for 160) and
// search-val (the next 64, batches of 32 in a fixed order).
struct Loaders {
  std::unique_ptr<data::DataLoader> train, eval;
};
Loaders loaders(int64_t train_images = 160) {
  const data::Dataset ds = tiny_data(train_images + 64);
  std::vector<int64_t> train(static_cast<size_t>(train_images)), val(64);
  for (int64_t i = 0; i < train_images; ++i) train[static_cast<size_t>(i)] = i;
  for (int64_t i = 0; i < 64; ++i) val[static_cast<size_t>(i)] = train_images + i;
  data::LoaderConfig t;
  t.batch_size = 16;
  t.seed = 3;
  t.prefetch = 0;
  data::LoaderConfig e = t;
  e.batch_size = 32;
  e.shuffle = false;
  return {std::make_unique<data::DataLoader>(ds, t, train),
          std::make_unique<data::DataLoader>(ds, e, val)};
}

OneShotConfig config(int epochs) {
  OneShotConfig c;
  c.epochs = epochs;
  c.lr = 0.1;
  return c;
}

std::unique_ptr<OneShotEstimator> estimator(const SpaceCase& c, int epochs, uint64_t seed = 1) {
  return std::make_unique<OneShotEstimator>(c.name, c.options, kShape, config(epochs), seed);
}

std::vector<space::Point> candidates(const space::ArchSpace& s, int n, uint64_t seed) {
  Generator gen(seed);
  std::vector<space::Point> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(gen));
  return out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// The standalone network's forward with batch statistics (as scoring runs), no gradients.
Tensor batch_stat_forward(nn::Module& net, const Tensor& x) {
  const NoGradGuard no_grad;
  net.train();
  return net.forward(x);
}

// A few steps so the shared weights are no longer their initial draw, then float64.
std::unique_ptr<OneShotEstimator> trained_in_float64(const SpaceCase& c) {
  auto est = estimator(c, 1);
  Loaders l = loaders();
  int steps = 0;
  OneShotHooks hooks;
  hooks.stop = [&] { return steps++ == 3; };
  est->train(*l.train, hooks);
  est->weights().to(DType::Float64);
  return est;
}

TEST(OneShot, MultibranchPathComputesTheMacroNetwork) {
  auto est = trained_in_float64(cases()[0]);
  const auto& space = dynamic_cast<const space::MultiBranchSpace&>(est->space());
  const nn::StateDict shared = est->weights().state_dict();
  Generator gen(11);
  double worst = 0;
  for (const space::Point& p : candidates(space, 10, 12)) {
    space::MacroNetworkConfig mc;
    mc.arch = space.arch(p);
    mc.channels = 4;
    mc.in_channels = 1;
    mc.affine = false;  // the supernet's BNs
    space::MacroNetwork net(mc, gen);
    net.to(DType::Float64);
    // "layer_3.conv.weight" holds the supernet's "layer_3.<op index>.conv.weight".
    nn::StateDict copied;
    for (const auto& [name, t] : net.state_dict()) {
      std::string source = name;
      const size_t dot = name.find('.');
      if (name.rfind("layer_", 0) == 0 && name.find('_', 6) > dot) {
        const int layer = std::stoi(name.substr(6, dot - 6));
        const int op = static_cast<int>(mc.arch.layers[static_cast<size_t>(layer)].op);
        source = name.substr(0, dot + 1) + std::to_string(op) + name.substr(dot);
      }
      ASSERT_TRUE(shared.count(source)) << name << " <- " << source;
      copied[name] = shared.at(source);
    }
    net.load_state_dict(copied);
    const Tensor x = uniform({5, kSize, kSize, 1}, -1, 1, gen).to(DType::Float64);
    const double d = max_abs_diff(est->logits(p, x), batch_stat_forward(net, x));
    EXPECT_LE(d, 1e-10) << space.to_text(p);
    worst = std::max(worst, d);
  }
  std::cout << "multibranch: one-shot vs MacroNetwork logits, max |diff| " << worst << "\n";
}

// The genotype with its pools replaced: EvalNetwork has no BN after a pool, DARTS's search
// candidates (and so the supernet) do, so only pool-free cells are the same function.
space::Point without_pools(const space::DartsCellSpace& s, const space::Point& p) {
  Genotype g = s.genotype(p);
  for (auto* cell : {&g.normal, &g.reduce})
    for (GenotypeEdge& e : *cell) {
      if (e.op == "max_pool_3x3") e.op = "dil_conv_3x3";
      if (e.op == "avg_pool_3x3") e.op = "skip_connect";
    }
  return space::DartsCellSpace::point(g);
}

TEST(OneShot, DartsCellPathComputesTheEvalNetwork) {
  auto est = trained_in_float64(cases()[1]);
  const auto& space = dynamic_cast<const space::DartsCellSpace&>(est->space());
  const auto& ops = space.options().ops;
  const nn::StateDict shared = est->weights().state_dict();
  ASSERT_TRUE(dynamic_cast<Supernet&>(est->weights()).fused());
  Generator gen(21);
  double worst = 0;
  for (const space::Point& sampled : candidates(space, 8, 22)) {
    const space::Point p = without_pools(space, sampled);
    EvalNetworkConfig ec;
    ec.genotype = space.genotype(p);
    ec.in_channels = 1;
    ec.image_size = kSize;
    ec.num_classes = 10;
    ec.init_channels = 4;
    ec.layers = 3;
    EvalNetwork net(ec, gen);
    net.to(DType::Float64);
    // "cells_2.ops_3.X" holds edge (node 1, its input) op k: "cells_2.edge_<e>.<k>.X". The
    // evaluation BNs' affine parameters stay 1 and 0: the supernet's affine-free BNs.
    nn::StateDict copied;
    for (const auto& [name, t] : net.state_dict()) {
      std::string source = name;
      const size_t ops_at = name.find(".ops_");
      if (ops_at != std::string::npos) {
        const int cell = std::stoi(name.substr(6, ops_at - 6));
        const size_t rest = name.find('.', ops_at + 5);
        const auto e = static_cast<size_t>(std::stoi(name.substr(ops_at + 5, rest - ops_at - 5)));
        const bool reduce = cell == 1 || cell == 2;
        const GenotypeEdge& edge = (reduce ? ec.genotype.reduce : ec.genotype.normal)[e];
        const int node = static_cast<int>(e / 2);
        const int index = node * (node + 3) / 2 + edge.input;
        const auto k = std::find(ops.begin(), ops.end(), edge.op) - ops.begin();
        source = name.substr(0, ops_at) + ".edge_" + std::to_string(index) + "." +
                 std::to_string(k) + name.substr(rest);
      }
      if (!shared.count(source)) {
        ASSERT_EQ(t.dim(), 1) << name << " <- " << source;  // an affine BN's weight or bias
        continue;
      }
      copied[name] = shared.at(source);
    }
    net.load_state_dict(copied, /*strict=*/false);
    const Tensor x = uniform({4, kSize, kSize, 1}, -1, 1, gen).to(DType::Float64);
    const double d = max_abs_diff(est->logits(p, x), batch_stat_forward(net, x));
    EXPECT_LE(d, 1e-10) << space.to_text(p);
    worst = std::max(worst, d);
  }
  std::cout << "darts-cell: fused one-shot vs EvalNetwork logits (pool-free genotypes), max |diff| "
            << worst << "\n";
}

// Cells with pools: the fused path against the op-by-op composition of the same candidates.
TEST(OneShot, DartsCellFusedPathMatchesTheComposedOps) {
  auto est = trained_in_float64(cases()[1]);
  auto& supernet = dynamic_cast<Supernet&>(est->weights());
  Generator gen(31);
  double worst = 0;
  for (const space::Point& p : candidates(est->space(), 8, 32)) {
    const Tensor x = uniform({4, kSize, kSize, 1}, -1, 1, gen).to(DType::Float64);
    supernet.set_fused(true);
    const Tensor fused = est->logits(p, x);
    supernet.set_fused(false);
    const Tensor composed = est->logits(p, x);
    worst = std::max(worst, max_abs_diff(fused, composed));
  }
  EXPECT_LE(worst, 1e-10);
  std::cout << "darts-cell: fused vs composed one-shot logits, max |diff| " << worst << "\n";
}

TEST(OneShot, ChainPathComputesTheChainNetwork) {
  auto est = trained_in_float64(cases()[2]);
  const auto& space = dynamic_cast<const space::ChainSpace&>(est->space());
  const nn::StateDict shared = est->weights().state_dict();
  Generator gen(41);
  double worst = 0;
  for (const space::Point& p : candidates(space, 16, 42)) {
    const space::ChainArch arch = space.arch(p);
    space::ChainNetwork net(arch, 6, kShape, gen);
    net.to(DType::Float64);
    nn::StateDict copied;
    for (const auto& [name, t] : net.state_dict())
      if (name.rfind("stem.", 0) == 0) copied[name] = shared.at(name);
    auto slice = [&](const std::string& key, int64_t out, int64_t in) {
      const Tensor& w = shared.at(key);
      return w.dim() == 1 ? w.narrow(0, 0, out) : w.narrow(0, 0, out).narrow(3, 0, in);
    };
    int64_t c = 6;
    for (size_t i = 0; i < arch.layers.size(); ++i) {
      const space::ChainLayer& l = arch.layers[i];
      const std::string slot = "slot_" + std::to_string(i) + ".",
                        layer = "layer_" + std::to_string(i) + ".";
      if (l.type == space::ChainLayerType::kConv) {
        const std::string k = slot + ChainSlot::conv_name(l.kernel);
        copied[layer + "op_conv.weight"] = slice(k + ".weight", l.filters, c);
        copied[layer + "op_bn.weight"] = slice(k + "_bn.weight", l.filters, 0);
        copied[layer + "op_bn.bias"] = slice(k + "_bn.bias", l.filters, 0);
      }
      if (l.type == space::ChainLayerType::kSepConv) {
        const std::string k = slot + ChainSlot::sep_name(l.kernel);
        copied[layer + "1.weight"] = slice(k + "_dw.weight", c, 1);
        copied[layer + "2.weight"] = slice(k + "_pw.weight", l.filters, c);
        copied[layer + "3.weight"] = slice(k + "_bn.weight", l.filters, 0);
        copied[layer + "3.bias"] = slice(k + "_bn.bias", l.filters, 0);
      }
      if (space::has_filters(l.type)) c = l.filters;
    }
    copied["classifier.weight"] = shared.at("classifier.weight").narrow(1, 0, c);
    copied["classifier.bias"] = shared.at("classifier.bias");
    const nn::LoadResult r = net.load_state_dict(copied, /*strict=*/false);
    for (const std::string& k : r.missing_keys)
      ASSERT_NE(k.find("running_"), std::string::npos) << k;
    ASSERT_TRUE(r.unexpected_keys.empty());
    const Tensor x = uniform({4, kSize, kSize, 1}, -1, 1, gen).to(DType::Float64);
    const double d = max_abs_diff(est->logits(p, x), batch_stat_forward(net, x));
    EXPECT_LE(d, 1e-10) << space.to_text(p);
    worst = std::max(worst, d);
  }
  std::cout << "chain: one-shot vs ChainNetwork logits, max |diff| " << worst << "\n";
}

// The mean cross-entropy of 8 fixed candidates on the 64 search-val images.
double mean_candidate_loss(OneShotEstimator& est, const std::vector<data::Batch>& batches) {
  double sum = 0;
  int n = 0;
  for (const space::Point& p : candidates(est.space(), 8, 77)) {
    for (const data::Batch& b : batches) {
      sum += cross_entropy(est.logits(p, b.images), b.labels).item();
      ++n;
    }
  }
  return sum / n;
}

class OneShotSpace : public ::testing::TestWithParam<size_t> {};
INSTANTIATE_TEST_SUITE_P(Spaces, OneShotSpace, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<size_t>& i) {
                           return cases()[i.param].name == "darts-cell" ? std::string("darts_cell")
                                                                        : cases()[i.param].name;
                         });

TEST_P(OneShotSpace, TrainingLowersTheLossOfSampledCandidates) {
  {
    const SpaceCase& c = cases()[GetParam()];
    auto est = estimator(c, 2);
    Loaders l = loaders();
    const auto val = OneShotEstimator::validation_batches(*l.eval, 0);
    ASSERT_EQ(val.size(), 2u);
    const double before = mean_candidate_loss(*est, val);
    std::vector<OneShotEpoch> epochs;
    int64_t last = 0, total = 0;
    OneShotHooks hooks;
    hooks.on_step = [&](int64_t s, int64_t t) { last = s, total = t; };
    hooks.on_epoch = [&](const OneShotEpoch& e) { epochs.push_back(e); };
    EXPECT_TRUE(est->train(*l.train, hooks));
    const double after = mean_candidate_loss(*est, val);
    EXPECT_LT(after, before) << c.name;
    EXPECT_EQ(last, 20);
    EXPECT_EQ(total, 20);
    ASSERT_EQ(epochs.size(), 2u);
    EXPECT_EQ(est->history().size(), 2u);
    EXPECT_TRUE(est->trained());
    EXPECT_LT(epochs[1].lr, epochs[0].lr);  // the cosine
    std::cout << c.name << ": mean loss of 8 candidates " << before << " -> " << after
              << " after 20 steps; training loss " << epochs[0].loss << ", " << epochs[1].loss
              << "\n";
  }
}

std::vector<double> scores(OneShotEstimator& est, const std::vector<data::Batch>& batches) {
  std::vector<double> s;
  for (const space::Point& p : candidates(est.space(), 6, 55)) s.push_back(est.score(p, batches));
  return s;
}

std::vector<float> logits_of(OneShotEstimator& est, const std::vector<data::Batch>& batches) {
  std::vector<float> out;
  for (const space::Point& p : candidates(est.space(), 3, 56)) {
    const auto v = est.logits(p, batches[0].images).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST_P(OneShotSpace, CheckpointRoundTripsAndResumesExactly) {
  {
    const SpaceCase& c = cases()[GetParam()];
    TempDir tmp;
    Loaders l = loaders(96);
    const auto val = OneShotEstimator::validation_batches(*l.eval, 1);
    // Straight through 2 epochs.
    auto a = estimator(c, 2);
    ASSERT_TRUE(a->train(*l.train));
    const std::vector<double> sa = scores(*a, val);
    a->save(tmp.sub("a"));
    a->save(tmp.sub("a"));  // a second save replaces the first
    auto b = estimator(c, 2);
    b->load(tmp.sub("a"));
    EXPECT_EQ(scores(*b, val), sa) << c.name;
    EXPECT_EQ(logits_of(*b, val), logits_of(*a, val)) << c.name;
    EXPECT_EQ(b->history().size(), 2u);
    EXPECT_TRUE(b->trained());

    // Stopped after 8 steps (inside epoch 2), saved, continued by another estimator: the same
    // weights and momentum as the uninterrupted run, bit for bit.
    auto s = estimator(c, 2);
    int steps = 0;
    Loaders l2 = loaders(96);
    OneShotHooks stop;
    stop.stop = [&] { return steps++ == 8; };
    EXPECT_FALSE(s->train(*l2.train, stop));
    EXPECT_EQ(s->epochs_done(), 1);
    s->save(tmp.sub("s"));
    auto r = estimator(c, 2);
    r->load(tmp.sub("s"));
    Loaders l3 = loaders(96);
    ASSERT_TRUE(r->train(*l3.train));
    r->save(tmp.sub("r"));
    fusenas::testing::expect_same_tensors(tmp.sub("a"), tmp.sub("r"));
    EXPECT_EQ(scores(*r, val), sa) << c.name;
    ASSERT_EQ(r->history().size(), 2u);
    EXPECT_EQ(r->history()[1].loss, a->history()[1].loss);
  }
}

TEST(OneShot, ScoresAreDeterministicGivenTheSeed) {
  const SpaceCase& c = cases()[0];
  Loaders l = loaders(96);
  const auto val = OneShotEstimator::validation_batches(*l.eval, 2);
  std::vector<std::vector<double>> runs;
  for (const uint64_t seed : {7, 7, 8}) {
    auto est = estimator(c, 1, seed);
    Loaders fresh = loaders(96);
    est->train(*fresh.train);
    runs.push_back(scores(*est, val));
    // Scoring leaves no trace: scoring again gives the same.
    EXPECT_EQ(scores(*est, val), runs.back());
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
  std::cout << "multibranch, seed 7, 1 epoch: scores";
  for (double s : runs[0]) std::cout << " " << s;
  std::cout << "\n";
}

TEST(OneShot, ErrorsAreClear) {
  TempDir tmp;
  auto multi = estimator(cases()[0], 1);
  auto darts = estimator(cases()[1], 1);
  Generator gen(1);
  const space::Point genotype = darts->space().sample(gen);
  const Tensor x = zeros({2, kSize, kSize, 1});
  expect_error([&] { (void)multi->logits(genotype, x); },
               {"not a point of this multibranch space", "layers"});
  expect_error([&] { (void)multi->score(multi->space().sample(gen), {}); },
               {"at least one validation batch"});

  expect_error([&] { multi->load(tmp.sub("nowhere")); }, {"no checkpoint in", "nowhere"});
  multi->save(tmp.sub("m"));
  expect_error([&] { darts->load(tmp.sub("m")); }, {"is a supernet with space", "multibranch"});
  auto wider = std::make_unique<OneShotEstimator>(
      "multibranch", Json{{"layers", 6}, {"channels", 6}}, kShape, config(1), 1);
  expect_error([&] { wider->load(tmp.sub("m")); }, {"space_options"});
  auto longer = estimator(cases()[0], 3);
  expect_error([&] { longer->load(tmp.sub("m")); }, {"config"});

  // A torn tensor file, then an unreadable state file.
  const Json state = fusenas::testing::read_json(tmp.sub("m") + "/checkpoint.json");
  const std::string tensors = tmp.sub("m") + "/" + state["tensor_file"].get<std::string>();
  fs::resize_file(tensors, fs::file_size(tensors) - 10);
  expect_error([&] { multi->load(tmp.sub("m")); }, {"torn or foreign"});
  std::ofstream(tmp.sub("m") + "/checkpoint.json") << "{ not json";
  expect_error([&] { multi->load(tmp.sub("m")); }, {"unreadable checkpoint state"});

  expect_error([&] { OneShotEstimator("hp", Json::object(), kShape, config(1), 1); },
               {"unknown search space 'hp'"});
  const space::JointSpace joint(std::make_shared<space::ChainSpace>(),
                                std::make_shared<space::HpSpace>());
  expect_error([&] { OneShotEstimator(joint, kShape, config(1), 1); },
               {"no supernet for the joint(chain+hp) space"});
  expect_error(
      [&] {
        OneShotEstimator("multibranch", Json::object(), {1, 10, 10}, config(1), 1);
      },
      {"image size must be a multiple of 4", "got 10"});
  OneShotConfig bad = config(1);
  bad.lr_min = 1.0;
  expect_error([&] { OneShotEstimator("chain", Json::object(), kShape, bad, 1); }, {"lr_min"});
  expect_error([&] { (void)OneShotConfig::from_json({{"epoch", 3}}); }, {"unknown key 'epoch'"});
}

}  // namespace
}  // namespace fusenas::nas::estimate
