// The train-less accuracy predictor (TAPAS): layer features against hand-computed vectors, the
// probe's DCN on a separable toy set, the predictor learning a synthetic rule, gathering trial
// databases with de-duplication, save/load, and the errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/space/chain_space.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::estimate::tapas {
namespace {

using nlohmann::json;

json chain_point(std::initializer_list<json> layers) {
  return {{"layers", json(layers)}};
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TapasFeatures, ChainMatchesHandComputedVectors) {
  // conv3x3x32/2 max_pool3x3 sep_conv5x5x64 identity on Fashion-MNIST (1 x 28), stem 16.
  const json p = chain_point({{{"type", "conv"}, {"kernel", 3}, {"filters", 32}, {"stride", 2}},
                              {{"type", "max_pool"}, {"kernel", 3}, {"stride", 1}},
                              {{"type", "sep_conv"}, {"kernel", 5}, {"filters", 64}, {"stride", 2}},
                              {{"type", "identity"}}});
  const ArchFeatures f =
      arch_features("chain", json::object(), p, dataset_image_shape("fashion-mnist"));
  ASSERT_EQ(f.layers.size(), 4u);
  // Parameters so far: stem 9*16 + 32 = 176; conv 9*16*32 + 64 = 4672; sep conv
  // 25*32 + 32*64 + 128 = 2,976.
  const auto lp = [](double p) { return static_cast<float>(std::log10(1 + p) / 6); };
  const std::vector<LayerFeatures> want = {
      {1, 0, 0, 0, 0, 0.6f, 5.0f / 8, 1, 1.0f / 8, 0.25f, 5.0f / 8, 0, lp(176 + 4672)},
      {0, 0, 1, 0, 0, 0.6f, 0, 0, 2.0f / 8, 0.25f, 5.0f / 8, 0, lp(176 + 4672)},
      // 14 -> 7 pixels: log2(28 / 7) / 4 = 0.5.
      {0, 1, 0, 0, 0, 1.0f, 6.0f / 8, 1, 3.0f / 8, 0.5f, 6.0f / 8, 0, lp(176 + 4672 + 2976)},
      {0, 0, 0, 0, 1, 0, 0, 0, 4.0f / 8, 0.5f, 6.0f / 8, 0, lp(176 + 4672 + 2976)}};
  for (size_t i = 0; i < want.size(); ++i)
    for (int k = 0; k < kLayerFeatures; ++k)
      EXPECT_NEAR(f.layers[i][static_cast<size_t>(k)], want[i][static_cast<size_t>(k)], 1e-6)
          << "layer " << i << " feature " << k;
  // Summary: 4 layers, the space's parameter count (adds the classifier: 64 * 10 + 10).
  const int64_t params = space::ChainSpace().count_parameters(p, {1, 28, 10});
  EXPECT_EQ(params, 176 + 4672 + 2976 + 650);
  EXPECT_FLOAT_EQ(f.summary[0], 0.5f);
  EXPECT_NEAR(f.summary[1], lp(static_cast<double>(params)), 1e-6);
  EXPECT_EQ(f.summary[2], 0.0f);

  // A 7-pixel map halves to 4 (ceil), as the space pads k / 2: log2(28 / 4) / 4.
  const json q = chain_point({{{"type", "avg_pool"}, {"kernel", 3}, {"stride", 2}},
                              {{"type", "avg_pool"}, {"kernel", 3}, {"stride", 2}},
                              {{"type", "avg_pool"}, {"kernel", 3}, {"stride", 2}}});
  const ArchFeatures g =
      arch_features("chain", json{{"stem_channels", 8}}, q, dataset_image_shape("fashion-mnist"));
  EXPECT_NEAR(g.layers[2][9], std::log2(7.0) / 4, 1e-6);
  EXPECT_NEAR(g.layers[2][10], 3.0 / 8, 1e-6);  // pools keep the stem's 8 channels
  // CIFAR-10 downscaled by 2: 3 x 16.
  EXPECT_EQ(dataset_image_shape("cifar10", 2).size, 16);
  EXPECT_EQ(dataset_image_shape("cifar10", 2).channels, 3);
}

TEST(TapasFeatures, MultibranchLayersAndSkips) {
  // 3 layers, 16 channels: reductions after layer 0 and layer 1 (L / 3 = 1).
  const json p = {{"layers",
                   {{{"op", "conv_5x5"}, {"skips", json::array()}},
                    {{"op", "sep_conv_3x3"}, {"skips", {1}}},
                    {{"op", "avg_pool_3x3"}, {"skips", {1, 1}}}}}};
  const ArchFeatures f =
      arch_features("multibranch", json{{"layers", 3}}, p, dataset_image_shape("fashion-mnist"));
  ASSERT_EQ(f.layers.size(), 3u);
  const auto lp = [](double v) { return static_cast<float>(std::log10(1 + v) / 6); };
  const double stem = 9 * 16 + 32, conv = 25 * 256 + 32, sep = 2 * (9 * 16 + 256 + 32);
  const std::vector<LayerFeatures> want = {
      {1, 0, 0, 0, 0, 1.0f, 0.5f, 1, 1.0f / 8, 0.25f, 0.5f, 0, lp(stem + conv)},
      {0, 1, 0, 0, 0, 0.6f, 0.5f, 1, 2.0f / 8, 0.5f, 0.5f, 1, lp(stem + conv + sep)},
      {0, 0, 0, 1, 0, 0.6f, 0, 0, 3.0f / 8, 0.5f, 0.5f, 1, lp(stem + conv + sep)}};
  for (size_t i = 0; i < want.size(); ++i)
    for (int k = 0; k < kLayerFeatures; ++k)
      EXPECT_NEAR(f.layers[i][static_cast<size_t>(k)], want[i][static_cast<size_t>(k)], 1e-6)
          << "layer " << i << " feature " << k;
  EXPECT_EQ(f.summary[2], 1.0f);
}

TEST(TapasFeatures, UnsupportedSpacesAndBadPointsAreClearErrors) {
  EXPECT_NE(error_of([] {
              arch_features("darts-cell", json::object(), json::object(),
                            dataset_image_shape("cifar10"));
            }).find("chain and multibranch spaces, not of the 'darts-cell' space"),
            std::string::npos);
  EXPECT_NE(error_of([] { dataset_image_shape("mnist"); }).find("unknown dataset 'mnist'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              arch_features("chain", json::object(), json{{"layers", json::array()}},
                            dataset_image_shape("fashion-mnist"));
            }),
            "(no error)");
}

// A 2-class 8 x 8 set whose label sets the brightness: the probe must find it easy.
TEST(TapasDifficulty, ProbeScoresASeparableSetHigh) {
  const int64_t n = 192;
  std::vector<uint8_t> px(static_cast<size_t>(n * 64));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  Generator gen(3);
  for (int64_t i = 0; i < n; ++i) {
    labels[static_cast<size_t>(i)] = i % 2;
    for (int k = 0; k < 64; ++k)
      px[static_cast<size_t>(i * 64 + k)] =
          static_cast<uint8_t>((i % 2 ? 150 : 60) + gen.next_int(0, 60));
  }
  data::Dataset d;
  d.name = "toy";
  d.images = from_vector(px, {n, 8, 8, 1}, TensorOptions{}.with_dtype(DType::UInt8));
  d.labels = from_vector(labels, {n}, TensorOptions{}.with_dtype(DType::Int64));
  d.num_classes = 2;
  d.mean = {0.5f};
  d.std = {0.25f};
  std::vector<int64_t> tr, va;
  for (int64_t i = 0; i < n; ++i) (i < 128 ? tr : va).push_back(i);
  data::LoaderConfig c;
  c.batch_size = 32;
  c.prefetch = 0;
  data::DataLoader train(d, c, tr), val(d, c, va);
  ProbeConfig probe;
  probe.epochs = 2;
  EXPECT_GE(probe_accuracy(train, val, {1, 8, 2}, probe), 0.9);
}

// Synthetic truth over the chain space: deeper convolution stacks and wider filters help, a
// reduction count away from 2 hurts, and longer training adds a fidelity bonus.
double synthetic_score(const space::ChainArch& a, int64_t epochs) {
  int convs = 0;
  double width = 0;
  for (const auto& l : a.layers) {
    if (!space::has_filters(l.type)) continue;
    ++convs;
    width += std::log2(static_cast<double>(l.filters) / 16);
  }
  const double mean_width = convs ? width / convs : 0;
  return 50 + 4 * convs + 4 * mean_width - 4 * std::abs(a.reductions() - 2) +
         6 * std::log2(static_cast<double>(epochs));
}

PredictorData synthetic_data(int n, uint64_t seed) {
  const space::ChainSpace s;
  Generator gen(seed);
  PredictorData d;
  d.datasets["fashion-mnist"].dcn = 0.8;
  for (int i = 0; i < n; ++i) {
    Example e;
    e.space = "chain";
    e.arch = s.sample(gen);
    e.dataset = "fashion-mnist";
    e.fidelity = {i % 2 ? 3 : 1, 5000, 1};
    e.score = synthetic_score(s.arch(e.arch), e.fidelity.epochs);
    d.examples.push_back(e);
  }
  return d;
}

PredictorOptions fast_options(const std::string& model) {
  PredictorOptions o;
  o.model = model;
  o.steps = 600;
  o.ensemble = 1;
  o.lr = 0.02;
  return o;
}

TEST(TapasPredictor, LearnsASyntheticRuleAndRanksHeldOutChains) {
  const PredictorData train = synthetic_data(120, 1), test = synthetic_data(40, 2);
  for (const std::string model : {"lstm", "mlp"}) {
    const auto start = std::chrono::steady_clock::now();
    const Predictor p = Predictor::train(train, fast_options(model));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Evaluation ev = evaluate(p, test);
    // The synthetic scores span about 40 points (sd ~9); predicting the mean gives an MAE ~7.
    EXPECT_LT(ev.mae, 3.0) << model;
    EXPECT_GT(ev.kendall_tau, 0.7) << model;
    EXPECT_GT(ev.spearman_rho, 0.85) << model;
    EXPECT_EQ(p.trained_on()["examples"], 120);
    EXPECT_LT(p.trained_on()["train_mae"].get<double>(), 3.0);
    std::printf("%s: held-out MAE %.2f, tau %.3f, rho %.3f; training %.2f s\n", model.c_str(),
                ev.mae, ev.kendall_tau, ev.spearman_rho, seconds);
  }
}

TEST(TapasPredictor, DeterministicAndSaveLoadRoundTrip) {
  const PredictorData train = synthetic_data(24, 5), test = synthetic_data(10, 6);
  PredictorOptions o = fast_options("lstm");
  o.steps = 50;
  o.ensemble = 2;
  const Predictor a = Predictor::train(train, o), b = Predictor::train(train, o);
  const Evaluation ea = evaluate(a, test), eb = evaluate(b, test);
  EXPECT_EQ(ea.predicted, eb.predicted);  // bit for bit
  testing::TempDir tmp;
  a.save(tmp.sub("model"));
  const Predictor c = Predictor::load(tmp.sub("model"));
  EXPECT_EQ(evaluate(c, test).predicted, ea.predicted);
  EXPECT_EQ(c.options().ensemble, 2);
  EXPECT_EQ(c.dcn("fashion-mnist"), 0.8);
  EXPECT_EQ(c.trained_on(), a.trained_on());

  // Errors: a missing folder, a missing weights file, too few examples, an unknown DCN.
  EXPECT_NE(error_of([] {
              Predictor::load("/nonexistent/model");
            }).find("model folder /nonexistent/model does not exist"),
            std::string::npos);
  std::filesystem::remove(tmp.sub("model") + "/" + Predictor::kWeightsFile);
  EXPECT_NE(error_of([&] { Predictor::load(tmp.sub("model")); }).find("weights.safetensors"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              Predictor::train(synthetic_data(3, 1), o);
            }).find("at least 4 examples, got 3"),
            std::string::npos);
  PredictorData other = test;
  other.datasets.clear();
  for (auto& e : other.examples) e.dataset = "cifar10";
  EXPECT_NE(error_of([&] {
              evaluate(c, other);
            }).find("no difficulty (DCN) is known for dataset 'cifar10'"),
            std::string::npos);
}

// A run folder as nas_search leaves it: config.json and trials.sqlite.
struct FakeTrial {
  json candidate;
  double score = 0;
  json fidelity = {{"epochs", 3}, {"train_subset", 10000}};
  bool done = true;
};
void write_run(const std::string& dir, const std::string& space, const std::vector<FakeTrial>& ts) {
  std::filesystem::create_directories(dir);
  const json cfg = {
      {"space", space},       {"space_options", json::object()}, {"dataset", "fashion-mnist"},
      {"train_portion", 0.5}, {"train_subset", 10000},           {"epochs", 3}};
  std::ofstream(dir + "/config.json") << cfg.dump();
  TrialDb db = TrialDb::create(dir + "/" + TrialDb::kFile, {"random", space, 0, cfg});
  for (const FakeTrial& t : ts) {
    NewTrial nt;
    nt.candidate = t.candidate;
    nt.encoding = {0.5f};
    nt.fidelity = t.fidelity;
    const int64_t id = db.add(nt);
    if (!t.done) continue;
    db.start(id);
    TrialResult r;
    r.score = t.score;
    db.finish(id, r);
  }
}

TEST(TapasGather, ReadsTrialDatabasesAndAveragesDuplicates) {
  testing::TempDir tmp;
  const json a = chain_point({{{"type", "conv"}, {"kernel", 3}, {"filters", 32}, {"stride", 2}}});
  // The same chain spelt with another key order.
  const json a2 = json::parse(R"({"layers":[{"stride":2,"filters":32,"type":"conv","kernel":3}]})");
  const json b = chain_point({{{"type", "max_pool"}, {"kernel", 3}, {"stride", 1}}});
  const json one_shot = {{"epochs", 0}, {"estimator", "one-shot"}, {"train_subset", 10000}};
  const json morph = {{"epochs", 3}, {"train_subset", 10000}, {"morph", {{"parent", 1}}}};
  const json ten = {{"epochs", 10}, {"train_subset", 10000}};
  write_run(tmp.sub("r1"), "chain",
            {{a, 70}, {b, 40}, {a, 0, json(), false}, {b, 20, one_shot}, {a, 90, morph}});
  write_run(tmp.sub("r2"), "chain", {{a2, 74}, {a, 80, ten}});
  write_run(tmp.sub("cells"), "darts-cell", {{json::object(), 50}});
  int probes = 0;
  GatherOptions o;
  o.difficulty = [&](const std::string& dataset, const std::string&) {
    ++probes;
    EXPECT_EQ(dataset, "fashion-mnist");
    Difficulty d;
    d.dcn = 0.75;
    return d;
  };
  GatherReport rep;
  const PredictorData d = gather({tmp.sub("r1"), tmp.sub("r2"), tmp.sub("cells")}, o, {}, &rep);
  EXPECT_EQ(probes, 1);
  ASSERT_EQ(d.examples.size(), 3u);  // a at 3 epochs (2 trials), b, a at 10 epochs
  EXPECT_EQ(d.examples[0].trials, 2);
  EXPECT_DOUBLE_EQ(d.examples[0].score, 72);
  EXPECT_EQ(d.examples[0].fidelity, (Fidelity{3, 5000, 1}));
  EXPECT_EQ(d.examples[0].sources.size(), 2u);
  EXPECT_DOUBLE_EQ(d.examples[1].score, 40);
  EXPECT_EQ(d.examples[2].fidelity.epochs, 10);
  EXPECT_EQ(rep.trials, 8);
  EXPECT_EQ(rep.kept, 4);
  EXPECT_EQ(rep.skipped["not done"], 1);
  EXPECT_EQ(rep.skipped["one-shot score (nothing trained)"], 1);
  EXPECT_EQ(rep.skipped["morphism child (inherited weights)"], 1);
  EXPECT_EQ(rep.skipped["space other than chain or multibranch"], 1);
  EXPECT_EQ(d.runs.size(), 2u);
  EXPECT_DOUBLE_EQ(d.datasets.at("fashion-mnist").dcn, 0.75);

  // Saved and read back unchanged; gathering r1 again into it adds nothing and probes nothing.
  d.save(tmp.sub("data.json"));
  const PredictorData back = PredictorData::load(tmp.sub("data.json"));
  EXPECT_EQ(back.to_json(), d.to_json());
  GatherReport again;
  const PredictorData grown = gather({tmp.sub("r1")}, o, back, &again);
  EXPECT_EQ(grown.to_json(), d.to_json());
  EXPECT_EQ(again.skipped["gathered before"], 2);
  EXPECT_EQ(probes, 1);

  // Errors name the folder or file.
  EXPECT_NE(error_of([&] {
              gather({tmp.sub("nope")}, o);
            }).find("run folder " + tmp.sub("nope") + " does not exist"),
            std::string::npos);
  std::filesystem::create_directories(tmp.sub("empty"));
  EXPECT_NE(error_of([&] {
              gather({tmp.sub("empty")}, o);
            }).find("has no config.json: gather takes nas_search run folders"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              gather({tmp.sub("cells")}, o);
            }).find("none of the 1 run folders holds a done, trained trial"),
            std::string::npos);
  EXPECT_NE(error_of([&] { PredictorData::load(tmp.sub("missing.json")); }).find("does not exist"),
            std::string::npos);
  std::ofstream(tmp.sub("foreign.json")) << R"({"examples": []})";
  EXPECT_NE(error_of([&] {
              PredictorData::load(tmp.sub("foreign.json"));
            }).find("is not a predictor data file"),
            std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas::estimate::tapas
