// nas_report --rank and the reference strategy on small trial databases written through TrialDb:
// Kendall tau, Spearman rho, top-5 recall and both costs equal values worked out by hand for a
// known permutation, a reference's own truncated curves, matching by candidate and
// hyperparameters (unmatched trials ignored), the markdown and JSON forms, clear errors; the
// reference strategy asks exactly the reference's done candidates in order and refuses another
// space.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/nas/report/rank_report.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/search/search_config.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/make_strategy.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::expect_error;
using testing::TempDir;

// Seven distinct chain architectures, A..G (valid points, so the reference strategy can replay
// them).
const std::vector<json>& archs() {
  static const std::vector<json> a = [] {
    const auto chain = space::make_arch_space("chain");
    std::vector<json> out;
    for (uint64_t seed = 1; out.size() < 7; ++seed) {
      Generator gen(seed);
      json p = chain->sample(gen);
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
  }();
  return a;
}

const json kHp = {{"batch_size", 96}, {"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 3e-4}};

struct T {
  enum End { kDone, kPruned, kFailed } end = kDone;
  int arch = 0;               // index into archs()
  double score = 0;           // done: the final val_acc
  std::vector<double> curve;  // val_acc per epoch (each epoch 10 s)
  double wall = 0;
  json fidelity = nullptr;  // null: the search's
  json metrics = nullptr;   // pruned: what the pruner recorded
  json hp = kHp;
};

json config(int epochs, int64_t subset, const std::string& strategy = "random") {
  return {{"preset", "quick"},
          {"strategy", strategy},
          {"space", "chain"},
          {"space_options", json::object()},
          {"hpo", "off"},
          {"budget_trials", 10},
          {"budget_minutes", 0},
          {"epochs", epochs},
          {"dataset", "fashion-mnist"},
          {"train_subset", subset},
          {"train_portion", 0.5},
          {"batch_size", 96},
          {"lr", 0.05},
          {"momentum", 0.9},
          {"weight_decay", 3e-4},
          {"seed", 1}};
}

void write_search(const std::string& dir, const json& cfg, const std::vector<T>& trials) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json", std::ios::binary) << cfg.dump();
  TrialDb db = TrialDb::create(dir + "/" + TrialDb::kFile, {cfg["strategy"], cfg["space"], 1, cfg});
  for (const T& t : trials) {
    NewTrial nt;
    nt.candidate = archs()[static_cast<size_t>(t.arch)];
    nt.encoding = {0.5f};
    nt.hyperparameters = t.hp;
    nt.fidelity = t.fidelity.is_null()
                      ? json{{"epochs", cfg["epochs"]}, {"train_subset", cfg["train_subset"]}}
                      : t.fidelity;
    const int64_t id = db.add(nt);
    db.start(id);
    int epoch = 0;
    for (double v : t.curve)
      db.append_epoch(id, {{"epoch", ++epoch}, {"val_acc", v}, {"seconds", 10}});
    if (t.end == T::kFailed) {
      db.fail(id, "diverged", t.wall);
    } else if (t.end == T::kPruned) {
      db.prune(id, "learning curve", t.metrics, t.wall);
    } else {
      TrialResult r;
      r.metrics = {{"val_acc", t.score}};
      r.score = t.score;
      r.wall_seconds = t.wall;
      db.finish(id, r);
    }
  }
}

// The reference: architectures A..F (0..5) trained 6 epochs on 4000 images (2000 trained), 60 s
// each, final val_acc A 80 > B 75 > C 70 > D 65 > E 60 > F 55. Their curves cross early on.
std::vector<T> reference_trials() {
  const std::vector<std::vector<double>> curves = {
      {40, 55, 65, 72, 77, 80}, {50, 60, 68, 72, 74, 75}, {30, 45, 58, 64, 68, 70},
      {45, 55, 60, 62, 64, 65}, {20, 35, 48, 55, 58, 60}, {35, 45, 50, 52, 54, 55}};
  std::vector<T> out;
  for (int i = 0; i < 6; ++i) {
    T t;
    t.arch = i;
    t.curve = curves[static_cast<size_t>(i)];
    t.score = t.curve.back();
    t.wall = 60;
    out.push_back(t);
  }
  return out;
}

// A low-fidelity run (2 epochs on 2000 images, 1000 trained) of the same six plus trials that
// must not match: architecture G, and A with another learning rate. Scores A 50, B 52, C 48,
// D 45 (pruned: its recorded prediction, not its curve's 30), E 46 (pruned without a prediction:
// its last curve value), F 47; B also ran once at 1 epoch (score 10), which only adds cost.
std::vector<T> low_fidelity_trials() {
  T b_low{T::kDone, 1, 10, {}, 2, {{"epochs", 1}, {"train_subset", 2000}}};
  T a{T::kDone, 0, 50, {}, 10};
  T b{T::kDone, 1, 52, {}, 10};
  T c{T::kDone, 2, 48, {}, 10};
  T d{T::kPruned, 3, 0, {30}, 5, nullptr, {{"predicted_val_acc", 45}, {"predicted_std", 2}}};
  T e{T::kPruned, 4, 0, {46}, 5};
  T f{T::kDone, 5, 47, {}, 10};
  T g{T::kDone, 6, 90, {}, 100};
  T a_other_lr = a;
  a_other_lr.score = 99;
  a_other_lr.wall = 100;
  a_other_lr.hp["lr"] = 0.1;
  T failed{T::kFailed, 2, 0, {}, 3};
  return {b_low, a, b, c, d, e, f, g, a_other_lr, failed};
}

// Both folders, written once per test binary and copied (every trial change is a synced commit).
struct Folders {
  std::string ref, low;
};
Folders folders(const TempDir& tmp) {
  static const TempDir made;
  static const bool written = [] {
    write_search(made.sub("ref"), config(6, 4000), reference_trials());
    write_search(made.sub("low"), config(2, 2000), low_fidelity_trials());
    return true;
  }();
  (void)written;
  for (const char* name : {"ref", "low"})
    fs::copy(made.sub(name), tmp.sub(name), fs::copy_options::recursive);
  return {tmp.sub("ref"), tmp.sub("low")};
}

const report::RankRow& row(const report::RankReport& r, const std::string& label) {
  for (const auto& row : r.rows)
    if (row.label == label) return row;
  ADD_FAILURE() << "no row " << label;
  static const report::RankRow none;
  return none;
}

// A one-shot search's trials train nothing; its supernet's training (two epochs of 30 s on 2000
// images, as one_shot/checkpoint.json records it) is charged to the matched architectures by
// their share of its scored trials: 4 of 4 here, plus 1 s of scoring each. Against the
// reference's 4 x 60 s and 4 x 6 x 2000 image-epochs: time (60 + 4) / 240, compute
// (2 x 1000) / 48000 (train_subset 2000 at portion 0.5 trains 1000 images).
TEST(RankReport, OneShotRunsAreChargedTheirSupernet) {
  TempDir tmp;
  const Folders f = folders(tmp);
  json cfg = config(3, 2000);
  cfg["estimator"] = "one-shot";
  cfg["supernet_epochs"] = 2;
  std::vector<T> trials;
  for (int a : {0, 1, 2, 3}) {
    T t{T::kDone, a, 50.0 + a, {}, 1, {{"epochs", 0}, {"train_subset", 2000}}};
    trials.push_back(t);
  }
  const std::string dir = tmp.sub("one-shot");
  write_search(dir, cfg, trials);
  fs::create_directories(dir + "/one_shot");
  std::ofstream(dir + "/one_shot/checkpoint.json")
      << json{{"history", {{{"epoch", 1}, {"seconds", 30}}, {{"epoch", 2}, {"seconds", 30}}}}}
             .dump();
  const report::RankReport r = report::build_rank_report(f.ref, {dir});
  const report::RankRow& os = r.rows[0];
  EXPECT_EQ(os.label, "one-shot (supernet 2 epochs, train_subset 2000, estimator one-shot)");
  EXPECT_EQ(os.matched, 4);
  EXPECT_NEAR(*os.cost_time, 64.0 / 240, 1e-12);
  EXPECT_NEAR(*os.cost_compute, 2000.0 / 48000, 1e-12);
  fs::remove(dir + "/one_shot/checkpoint.json");
  expect_error([&] { report::build_rank_report(f.ref, {dir}); }, {"supernet's record"});

  // A predictor's trials (tapas) train nothing at the fidelity they predict at.
  cfg = config(6, 4000);
  cfg["estimator"] = "tapas";
  for (T& t : trials) t.fidelity = {{"epochs", 6}, {"train_subset", 4000}, {"estimator", "tapas"}};
  write_search(tmp.sub("tapas"), cfg, trials);
  EXPECT_EQ(*report::build_rank_report(f.ref, {tmp.sub("tapas")}).rows[0].cost_compute, 0);
}

TEST(RankReport, ALowFidelityRunsKnownPermutationGivesHandWorkedNumbers) {
  TempDir tmp;
  const Folders f = folders(tmp);
  const report::RankReport r = report::build_rank_report(f.ref, {f.low});
  EXPECT_EQ(r.reference_done, 6);
  EXPECT_EQ(r.reference_epochs, 6);
  EXPECT_DOUBLE_EQ(r.reference_minutes, 6.0);
  EXPECT_EQ(r.reference_label, "ref (6 epochs, train_subset 4000)");
  ASSERT_FALSE(r.rows.empty());
  const report::RankRow& low = r.rows[0];
  EXPECT_EQ(low.kind, "run");
  EXPECT_EQ(low.dir, f.low);
  // B's 1-epoch trial differs from the config's fidelity, so the label lists the trials' epochs.
  EXPECT_EQ(low.label, "low (2 epochs, train_subset 2000); trials: epochs 1/2");
  // G and A at another learning rate do not match; B counts its 2-epoch trial.
  EXPECT_EQ(low.matched, 6);
  EXPECT_EQ(low.pruned, 2);
  // Truth A > B > C > D > E > F; scores A 50, B 52, C 48, D 45, E 46, F 47: the pairs AB, DE, DF
  // and EF are discordant, 11 of 15 concordant: tau = 7/15. Ranks B1 A2 C3 F4 E5 D6 against
  // A1 .. F6: sum d^2 = 1 + 1 + 4 + 4 = 10, rho = 1 - 6 * 10 / (6 * 35) = 5/7. The estimate's
  // top 5 {B, A, C, F, E} holds 4 of {A, B, C, D, E}.
  EXPECT_NEAR(low.kendall_tau, 7.0 / 15, 1e-12);
  EXPECT_NEAR(low.spearman_rho, 5.0 / 7, 1e-12);
  EXPECT_EQ(low.top_k, 5);
  EXPECT_NEAR(low.top_k_recall, 0.8, 1e-12);
  // Time: 4 done x 10 s + 2 pruned x 5 s + B's 1-epoch 2 s (the failed C trial has no score but
  // its 3 s were spent on a matched architecture too) = 55 s against 6 x 60 s.
  ASSERT_TRUE(low.cost_time);
  EXPECT_NEAR(*low.cost_time, 55.0 / 360, 1e-12);
  // Compute: 1000 images a epoch: 4 x 2 epochs + 2 pruned x 1 epoch + 1 epoch (B low) + 0 (the
  // failed trial trained none) = 11 epochs = 11000 image-epochs, against 6 x 6 x 2000 = 72000.
  ASSERT_TRUE(low.cost_compute);
  EXPECT_NEAR(*low.cost_compute, 11000.0 / 72000, 1e-12);
}

TEST(RankReport, TheReferencesOwnTruncatedCurvesGiveHandWorkedNumbers) {
  TempDir tmp;
  const Folders f = folders(tmp);
  const report::RankReport r = report::build_rank_report(f.ref, {});
  // Epoch 1: B 50, D 45, A 40, F 35, C 30, E 20. Discordant AB, AD, CD, CF, EF: tau = 5/15;
  // ranks B1 D2 A3 F4 C5 E6: sum d^2 = 4 + 1 + 4 + 4 + 1 + 4 = 18, rho = 1 - 108/210 = 17/35;
  // top 5 {B, D, A, F, C} holds 4.
  const report::RankRow& e1 = row(r, "truncated at epoch 1");
  EXPECT_EQ(e1.kind, "truncated");
  EXPECT_EQ(e1.k, 1);
  EXPECT_EQ(e1.matched, 6);
  EXPECT_NEAR(e1.kendall_tau, 1.0 / 3, 1e-12);
  EXPECT_NEAR(e1.spearman_rho, 17.0 / 35, 1e-12);
  EXPECT_NEAR(e1.top_k_recall, 0.8, 1e-12);
  // 10 s of every 60 s curve; 1 of 6 epochs.
  EXPECT_NEAR(*e1.cost_time, 1.0 / 6, 1e-12);
  EXPECT_NEAR(*e1.cost_compute, 1.0 / 6, 1e-12);
  // Epoch 3: A 65, B 68, C 58, D 60, E 48, F 50. Discordant AB, CD, EF: tau = 9/15; sum d^2 = 6,
  // rho = 1 - 36/210 = 29/35; top 5 {B, A, D, C, F} holds 4.
  const report::RankRow& e3 = row(r, "truncated at epoch 3");
  EXPECT_NEAR(e3.kendall_tau, 0.6, 1e-12);
  EXPECT_NEAR(e3.spearman_rho, 29.0 / 35, 1e-12);
  EXPECT_NEAR(e3.top_k_recall, 0.8, 1e-12);
  EXPECT_NEAR(*e3.cost_compute, 0.5, 1e-12);
  // Epoch 5 is already in the final order.
  const report::RankRow& e5 = row(r, "truncated at epoch 5");
  EXPECT_DOUBLE_EQ(e5.kendall_tau, 1);
  EXPECT_DOUBLE_EQ(e5.spearman_rho, 1);
  EXPECT_DOUBLE_EQ(e5.top_k_recall, 1);
  // Extrapolation rows cost what their prefix cost (plus the fits' milliseconds).
  for (const int k : {3, 5}) {
    const report::RankRow& x = row(r, fmt::format("curve extrapolation from {} epochs", k));
    EXPECT_EQ(x.kind, "extrapolated");
    EXPECT_EQ(x.matched, 6);
    EXPECT_TRUE(std::isfinite(x.kendall_tau));
    EXPECT_GE(x.kendall_tau, -1);
    EXPECT_LE(x.kendall_tau, 1);
    EXPECT_NEAR(*x.cost_compute, k / 6.0, 1e-12);
    EXPECT_GE(*x.cost_time, k / 6.0);
    EXPECT_LT(*x.cost_time, k / 6.0 + 0.1);
  }
  EXPECT_TRUE(r.skipped.empty());
}

TEST(RankReport, MarkdownAndJsonCarryTheNumbers) {
  TempDir tmp;
  const Folders f = folders(tmp);
  const report::RankReport r = report::build_rank_report(f.ref, {f.low}, {1}, {});
  const std::string md = report::rank_markdown(r);
  EXPECT_NE(md.find("| estimator | architectures | Kendall tau | Spearman rho | top-5 recall |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 6 (2 pruned) | 0.467 | 0.714 | 0.80 | 0.153 | 0.153 |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| truncated at epoch 1 | 6 | 0.333 | 0.486 | 0.80 | 0.167 | 0.167 |"),
            std::string::npos)
      << md;
  const json j = report::to_json(r);
  EXPECT_EQ(j["reference"]["architectures"], 6);
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_NEAR(j["rows"][0]["kendall_tau"].get<double>(), 7.0 / 15, 1e-12);
  EXPECT_EQ(j["rows"][0]["matched"], 6);
  EXPECT_EQ(j["rows"][1]["kind"], "truncated");
}

TEST(RankReport, CurvesTooShortAreLeftOutAndConstantScoresGiveNa) {
  TempDir tmp;
  // Three architectures, 2 epochs each, equal at epoch 1.
  std::vector<T> trials;
  for (int i = 0; i < 3; ++i) {
    T t;
    t.arch = i;
    t.curve = {40, 50.0 + i};
    t.score = t.curve.back();
    t.wall = 20;
    trials.push_back(t);
  }
  write_search(tmp.sub("short"), config(2, 4000), trials);
  const report::RankReport r = report::build_rank_report(tmp.sub("short"), {});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_TRUE(std::isnan(r.rows[0].kendall_tau));
  EXPECT_NE(report::rank_markdown(r).find("| truncated at epoch 1 | 3 | n/a | n/a |"),
            std::string::npos);
  EXPECT_TRUE(report::to_json(r)["rows"][0]["kendall_tau"].is_null());
  ASSERT_EQ(r.skipped.size(), 5u);
  EXPECT_EQ(r.skipped[0], "truncated at epoch 2: the reference's curves end at epoch 2");
}

TEST(RankReport, FoldersWithoutTrialsOrMatchesAreRefused) {
  TempDir tmp;
  const Folders f = folders(tmp);
  fs::create_directories(tmp.sub("empty"));
  expect_error([&] { report::build_rank_report(tmp.sub("empty"), {f.low}); },
               {"reference", "empty holds no trials.sqlite"});
  expect_error([&] { report::build_rank_report(f.ref, {tmp.sub("nowhere")}); },
               {"run", "nowhere is not a folder"});
  // One architecture in common (A) is no ranking.
  write_search(tmp.sub("one"), config(2, 2000),
               {T{T::kDone, 0, 50, {}, 10}, T{T::kDone, 6, 60, {}, 10}});
  expect_error([&] { report::build_rank_report(f.ref, {tmp.sub("one")}); },
               {"one shares 1 scored architecture(s) with the reference", "at least 2"});
  write_search(tmp.sub("lonely"), config(2, 2000), {T{T::kDone, 0, 50, {}, 10}});
  expect_error([&] { report::build_rank_report(tmp.sub("lonely"), {}); },
               {"has 1 done architecture(s)", "at least 2"});
}

strategy::StrategyOptions replay_of(const std::string& dir) {
  strategy::StrategyOptions o;
  o.reference = dir;
  return o;
}

TEST(ReferenceStrategy, AsksExactlyTheReferencesDoneCandidatesInOrder) {
  TempDir tmp;
  // Done C, failed A, done E, pruned B, done D: the replay asks C, E, D.
  write_search(tmp.sub("ref"), config(2, 2000),
               {T{T::kDone, 2, 50, {}, 1}, T{T::kFailed, 0, 0, {}, 1}, T{T::kDone, 4, 40, {}, 1},
                T{T::kPruned, 1, 0, {30}, 1}, T{T::kDone, 3, 45, {}, 1}});
  const auto chain = space::make_arch_space("chain");
  const auto s = strategy::make_strategy("reference", *chain, 0, replay_of(tmp.sub("ref")));
  EXPECT_EQ(s->name(), "reference");
  EXPECT_EQ(s->ask(), archs()[2]);
  s->tell(archs()[2], 10.0);  // bookkeeping only: the next ask is the reference's next
  EXPECT_EQ(s->ask(), archs()[4]);
  s->tell(archs()[4], std::nullopt);
  EXPECT_EQ(s->ask(), archs()[3]);
  EXPECT_EQ(s->history().size(), 2u);
  expect_error([&] { s->ask(); }, {"has 3 done trials to replay", "trial 4 asks for one more"});
  // A resumed search continues where it stopped.
  const auto resumed = strategy::make_strategy("reference", *chain, 5, replay_of(tmp.sub("ref")));
  resumed->set_asked(2);
  EXPECT_EQ(resumed->ask(), archs()[3]);
  // The same options written out in full are the same space.
  const auto spelled = space::make_arch_space("chain", {{"max_layers", 8}, {"stem_channels", 16}});
  EXPECT_EQ(strategy::make_strategy("reference", *spelled, 0, replay_of(tmp.sub("ref")))->ask(),
            archs()[2]);
}

TEST(ReferenceStrategy, RefusesAnotherSpaceOptionsAndEmptyOrMissingReferences) {
  TempDir tmp;
  write_search(tmp.sub("ref"), config(2, 2000), {T{T::kDone, 0, 50, {}, 1}});
  const std::string ref = tmp.sub("ref");
  const auto other = space::make_arch_space("multibranch");
  expect_error([&] { strategy::make_strategy("reference", *other, 0, replay_of(ref)); },
               {"searched the space 'chain'", "this search 'multibranch'"});
  const auto narrow = space::make_arch_space("chain", {{"max_layers", 3}});
  expect_error([&] { strategy::make_strategy("reference", *narrow, 0, replay_of(ref)); },
               {"with the options", "\"max_layers\":8", "\"max_layers\":3"});
  const auto chain = space::make_arch_space("chain");
  expect_error([&] { strategy::make_strategy("reference", *chain, 0, replay_of(tmp.sub("no"))); },
               {"reference run folder", "does not exist"});
  fs::create_directories(tmp.sub("bare"));
  expect_error([&] { strategy::make_strategy("reference", *chain, 0, replay_of(tmp.sub("bare"))); },
               {"holds no trials.sqlite"});
  write_search(tmp.sub("failed"), config(2, 2000), {T{T::kFailed, 0, 0, {}, 1}});
  expect_error(
      [&] { strategy::make_strategy("reference", *chain, 0, replay_of(tmp.sub("failed"))); },
      {"has no done trial to replay (1 in all)"});
  json after = config(2, 2000);
  after["hpo"] = "after";
  write_search(tmp.sub("after"), after, {T{T::kDone, 0, 50, {}, 1}});
  expect_error(
      [&] { strategy::make_strategy("reference", *chain, 0, replay_of(tmp.sub("after"))); },
      {"--hpo after"});
}

TEST(ReferenceStrategy, TheConfigNeedsAReferenceExactlyForTheReferenceStrategy) {
  BlackBoxConfig c = blackbox_preset("quick");
  c.strategy.name = "reference";
  expect_error([&] { c.validate(); }, {"--strategy reference needs --reference"});
  c.strategy.reference = "runs/ref";
  c.validate();
  EXPECT_EQ(to_json(c)["reference"], "runs/ref");
  EXPECT_EQ(blackbox_config_from_json(to_json(c)).strategy.reference, "runs/ref");
  EXPECT_EQ(c.strategy.options(10).reference, "runs/ref");
  c.hpo = "after";
  expect_error([&] { c.validate(); }, {"--hpo off or joint, not after"});
  c.hpo = "off";
  c.strategy.name = "random";
  expect_error([&] { c.validate(); }, {"--reference is for --strategy reference only"});
}

}  // namespace
}  // namespace fusenas::nas
