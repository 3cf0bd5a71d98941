// The hyperparameter space, the joint space and the architecture-space factory: the space
// contract over many samples and mutations, one decision per mutation, the priors and their
// encoding, and hostile points; and random damage to the points of every space.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/space_contract.h"
#include "fusenas/nas/train/train_config.h"
#include "support/expect.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using Json = nlohmann::json;

int changed(const Hyperparameters& a, const Hyperparameters& b) {
  return (a.batch_size != b.batch_size) + (a.lr != b.lr) + (a.momentum != b.momentum) +
         (a.weight_decay != b.weight_decay);
}

TEST(HpSpace, SamplesFollowThePriors) {
  const HpSpace space;
  Generator gen(1);
  int small_lr = 0, small_wd = 0, high_momentum = 0, batch64 = 0;
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    check_point_contract(space, p);
    const Hyperparameters h = space.values(p);
    EXPECT_EQ(HpSpace::point(h), p);
    // The medians of the priors: the geometric means for the log-uniform ones.
    small_lr += h.lr < std::sqrt(1e-3 * 1.0);
    small_wd += h.weight_decay < std::sqrt(1e-5 * 1e-2);
    high_momentum += h.momentum > (0.5 + 0.99) / 2;
    batch64 += h.batch_size == 64;
  }
  EXPECT_NEAR(small_lr / 1000.0, 0.5, 0.05);
  EXPECT_NEAR(small_wd / 1000.0, 0.5, 0.05);
  EXPECT_NEAR(high_momentum / 1000.0, 0.5, 0.05);
  EXPECT_NEAR(batch64 / 1000.0, 0.2, 0.04);
}

TEST(HpSpace, MutationChainsChangeExactlyOneHyperparameter) {
  HpOptions one_batch;
  one_batch.batch_sizes = {128};
  for (const auto& options : {HpOptions{}, one_batch}) {
    const HpSpace space(options);
    Generator gen(2);
    int which[4] = {0, 0, 0, 0};
    for (int chain = 0; chain < 1000; ++chain) {
      Point p = space.sample(gen);
      for (int step = 0; step < 5; ++step) {
        const Point child = space.mutate(p, gen);
        check_mutation_contract(space, p, child);
        const Hyperparameters a = space.values(p), b = space.values(child);
        EXPECT_EQ(changed(a, b), 1);
        which[0] += a.batch_size != b.batch_size;
        which[1] += a.lr != b.lr;
        which[2] += a.momentum != b.momentum;
        which[3] += a.weight_decay != b.weight_decay;
        p = child;
      }
    }
    EXPECT_EQ(which[0] == 0, options.batch_sizes.size() == 1);
    for (int k = 1; k < 4; ++k) EXPECT_GT(which[k], 1000);
  }
}

TEST(HpSpace, MutationStepsAreLocalOnThePriorsScale) {
  const HpSpace space;
  Generator gen(3);
  double total = 0;
  int steps = 0;
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    const auto a = space.encode(p), b = space.encode(space.mutate(p, gen));
    for (size_t k = 1; k < 4; ++k) {
      if (a[k] != b[k]) {
        total += std::abs(a[k] - b[k]);
        ++steps;
      }
    }
  }
  // |N(0, 0.2)| has mean 0.2 sqrt(2 / pi) = 0.16; reflection at the bounds only shortens steps.
  EXPECT_GT(steps, 600);
  EXPECT_NEAR(total / steps, 0.15, 0.03);
}

TEST(HpSpace, DefaultPointIsNasTrainsAndEncodesOnThePriorsScale) {
  const HpSpace space;
  const TrainConfig train;
  const Hyperparameters d = space.values(space.default_point());
  EXPECT_EQ(d, (Hyperparameters{train.batch_size, train.sgd.lr, train.sgd.momentum,
                                train.sgd.weight_decay}));
  EXPECT_EQ(space.encoding_size(), 4);
  const auto v = space.encode(HpSpace::point({32, std::pow(10.0, -2.25), 0.745, 1e-2}));
  EXPECT_EQ(v[0], 0.0f);          // the first of 5 batch sizes
  EXPECT_NEAR(v[1], 0.25, 1e-6);  // 10^-2.25 is a quarter of the way from 10^-3 to 10^0
  EXPECT_NEAR(v[2], 0.5, 1e-6);
  EXPECT_EQ(v[3], 1.0f);
  EXPECT_EQ(space.encode(HpSpace::point({256, 1.0, 0.5, 1e-5})), (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(space.to_text(space.default_point()),
            "batch 96, lr 0.05, momentum 0.9, weight decay 0.0003");
  HpOptions narrow;
  narrow.lr_max = 0.01;
  expect_error(
      [&] { (void)HpSpace(narrow).default_point(); },
      {"leave out nas_train's defaults", "lr must be a number in [0.001, 0.01], got 0.05"});
}

TEST(HpSpace, RefusesHostilePointsNamingTheFieldAndTheRule) {
  const HpSpace space;
  const Point good = space.default_point();
  const auto with = [&](const char* key, const Json& value) {
    Point p = good;
    p[key] = value;
    return p;
  };
  Point missing = good;
  missing.erase("momentum");
  const std::vector<std::pair<Point, std::vector<std::string>>> cases = {
      {Json::array({64, 0.1}), {"hp: the point must be an object, got an array of 2"}},
      {missing, {"hp: the point is missing the key 'momentum'"}},
      {with("nesterov", true), {"unknown key \"nesterov\""}},
      {with("batch_size", 100), {"hp: batch_size must be one of 32, 64, 96, 128, 256, got 100"}},
      {with("batch_size", 64.0), {"batch_size must be one of", "got 64.0"}},
      {with("batch_size", "64"), {"batch_size must be one of", "got \"64\""}},
      {with("lr", 0), {"hp: lr must be a number in [0.001, 1], got 0"}},
      {with("lr", 2.5), {"lr must be a number in [0.001, 1], got 2.5"}},
      {with("lr", "0.1"), {"lr must be a number", "got \"0.1\""}},
      {with("lr", std::numeric_limits<double>::quiet_NaN()), {"lr must be a number", "got nan"}},
      {with("lr", std::numeric_limits<double>::infinity()), {"lr must be a number", "got inf"}},
      {with("momentum", nullptr), {"momentum must be a number in [0.5, 0.99], got null"}},
      {with("momentum", true), {"momentum must be a number in [0.5, 0.99], got true"}},
      {with("weight_decay", -1e-4),
       {"weight_decay must be a number in [1e-05, 0.01], got -0.0001"}},
  };
  for (const auto& [p, parts] : cases) {
    SCOPED_TRACE(p.dump());
    expect_error([&] { space.validate(p); }, parts);
  }
}

TEST(HpSpace, OptionsAreCheckedAndRoundTrip) {
  HpOptions o;
  o.batch_sizes = {16, 48};
  o.lr_min = 0.01;
  o.momentum_max = 0.95;
  EXPECT_EQ(HpOptions::from_json(o.to_json()).to_json(), o.to_json());
  expect_error(
      [] {
        HpOptions::from_json({{"lr_min", 0}});
      },
      {"hp options: lr needs 0 < lr_min < lr_max <= 100, got [0, 1]"});
  expect_error(
      [] {
        HpOptions::from_json({{"momentum_min", 0.99}, {"momentum_max", 0.9}});
      },
      {"momentum needs 0 <= momentum_min < momentum_max <= 1, got [0.99, 0.9]"});
  expect_error(
      [] {
        HpOptions::from_json({{"batch_sizes", {32, 32}}});
      },
      {"batch_sizes[1] = 32 is listed twice"});
  expect_error(
      [] {
        HpOptions::from_json({{"optimizer", "adam"}});
      },
      {"unknown key \"optimizer\""});
}

std::shared_ptr<JointSpace> joint(const std::string& arch) {
  return std::make_shared<JointSpace>(make_arch_space(arch), std::make_shared<HpSpace>());
}

TEST(JointSpace, SamplesAndMutationsChangeOneDecisionOfOnePart) {
  for (const char* arch : {"chain", "darts-cell", "multibranch"}) {
    SCOPED_TRACE(arch);
    const auto space = joint(arch);
    EXPECT_EQ(space->name(), fmt::format("joint({}+hp)", arch));
    EXPECT_EQ(space->encoding_size(), space->arch_space().encoding_size() + 4);
    Generator gen(4);
    int arch_changes = 0, mutations = 0;
    for (int chain = 0; chain < 1000; ++chain) {
      Point p = space->sample(gen);
      check_point_contract(*space, p);
      for (int step = 0; step < 3; ++step) {
        const Point child = space->mutate(p, gen);
        check_mutation_contract(*space, p, child);
        // One part changes, by one of its own mutations (which the part spaces' tests check).
        const bool arch_changed = child["arch"] != p["arch"];
        EXPECT_NE(arch_changed, child["hp"] != p["hp"]);
        if (!arch_changed) {
          EXPECT_EQ(changed(space->hyperparameters(p), space->hyperparameters(child)), 1);
        }
        arch_changes += arch_changed;
        ++mutations;
        p = child;
      }
    }
    EXPECT_NEAR(arch_changes / static_cast<double>(mutations), 0.5, 0.03);
  }
}

TEST(JointSpace, EncodesBuildsAndPrintsFromItsParts) {
  const auto space = joint("chain");
  Generator gen(5);
  const Point p = space->sample(gen);
  std::vector<float> expected = space->arch_space().encode(p["arch"]);
  for (float v : space->hp_space().encode(p["hp"])) expected.push_back(v);
  EXPECT_EQ(space->encode(p), expected);
  EXPECT_EQ(space->to_text(p),
            space->arch_space().to_text(p["arch"]) + " | " + space->hp_space().to_text(p["hp"]));
  const ImageShape shape{1, 28, 10};
  EXPECT_EQ(space->count_parameters(p, shape),
            space->arch_space().count_parameters(p["arch"], shape));
  EXPECT_EQ(space->build(p, shape, gen)->num_parameters(), space->count_parameters(p, shape));
  EXPECT_EQ(space->arch_part(p), p["arch"]);
}

TEST(JointSpace, RefusesHostilePointsNamingThePart) {
  const auto space = joint("multibranch");
  Generator gen(6);
  const Point good = space->sample(gen);
  Point bad_hp = good;
  bad_hp["hp"]["lr"] = 5;
  Point bad_arch = good;
  bad_arch["arch"]["layers"][0]["op"] = "identity";
  Point missing = good;
  missing.erase("hp");
  expect_error([&] { space->validate(bad_hp); },
               {"joint(multibranch+hp): 'hp': hp: lr must be a number in [0.001, 1], got 5"});
  expect_error([&] { space->validate(bad_arch); },
               {"joint(multibranch+hp): 'arch': multibranch: layers[0].op must be one of"});
  expect_error([&] { space->validate(missing); },
               {"joint(multibranch+hp): the point is missing the key 'hp'"});
  expect_error([&] { space->validate(good["arch"]); }, {"missing the key 'arch'"});
}

TEST(MakeArchSpace, BuildsEachSpaceWithItsOptionsAndNamesTheKnownOnes) {
  EXPECT_EQ(arch_space_names(),
            (std::vector<std::string>{"darts-cell", "chain", "multibranch", "zoph-le"}));
  for (const auto& name : arch_space_names()) EXPECT_EQ(make_arch_space(name)->name(), name);
  EXPECT_EQ(make_arch_space("chain", {{"max_layers", 3}})->encoding_size(), 3 * 12 + 4);
  EXPECT_EQ(make_arch_space("multibranch", {{"layers", 12}})->encoding_size(), 12 * 6 + 66);
  EXPECT_EQ(make_arch_space("zoph-le", {{"layers", 12}})->encoding_size(), 12 * 12 + 66);
  EXPECT_EQ(make_arch_space("darts-cell", {{"encoding", "path"}})->encoding_size(), 11200);
  expect_error([] { make_arch_space("nasbench101"); },
               {"unknown search space 'nasbench101' (known: darts-cell, chain, multibranch, "
                "zoph-le)"});
  expect_error(
      [] {
        make_arch_space("chain", {{"layers", 3}});
      },
      {"chain options: the object has the unknown key \"layers\""});
  expect_error([] { make_arch_space("multibranch", Json::array()); },
               {"multibranch options: the object must be an object"});
}

Json random_value(Generator& gen) {
  switch (gen.next_int(0, 12)) {
    case 0:
      return nullptr;
    case 1:
      return gen.next_int(-2, 8);
    case 2:
      return uint64_t{1} << 63;
    case 3:
      return std::numeric_limits<int64_t>::min();
    case 4:
      return -1e300;
    case 5:
      return std::numeric_limits<double>::quiet_NaN();
    case 6:
      return 2.0;
    case 7:
      return "conv_3x3";
    case 8:
      return Json::array({1, "x"});
    case 9:
      return Json::object({{"op", 1}});
    case 10:
      return true;
    default:
      return std::string(100, 'z');
  }
}

void pointers(const Json& j, const Json::json_pointer& at, std::vector<Json::json_pointer>& out) {
  out.push_back(at);
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) pointers(value, at / key, out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) pointers(j[i], at / i, out);
  }
}

// One random change anywhere in the document: a value replaced, an entry removed or one added.
Point damage(Point p, Generator& gen) {
  std::vector<Json::json_pointer> all;
  pointers(p, Json::json_pointer(""), all);
  const Json::json_pointer at =
      all[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(all.size())))];
  const int64_t how = gen.next_int(0, 3);
  if (how == 0 || at.empty()) {
    p[at] = random_value(gen);
    return p;
  }
  Json& parent = p[at.parent_pointer()];
  if (how == 1) {
    if (parent.is_object()) {
      parent.erase(at.back());
    } else {
      parent.erase(std::stoul(at.back()));
    }
  } else if (parent.is_object()) {
    parent["extra"] = random_value(gen);
  } else {
    parent.push_back(random_value(gen));
  }
  return p;
}

// Whatever the damage, a space accepts the point (and can then use it) or refuses it with a
// fusenas::Error; any other exception, or a crash, fails the test.
TEST(AllSpaces, DamagedPointsAreAcceptedOrRefusedWithAnError) {
  std::vector<std::shared_ptr<const Space>> spaces;
  for (const auto& name : arch_space_names()) spaces.push_back(make_arch_space(name));
  spaces.push_back(std::make_shared<HpSpace>());
  spaces.push_back(joint("darts-cell"));
  Generator gen(7);
  for (const auto& space : spaces) {
    SCOPED_TRACE(space->name());
    int accepted = 0, refused = 0;
    for (int i = 0; i < 2000; ++i) {
      Point p = space->sample(gen);
      for (int k = 0, n = static_cast<int>(gen.next_int(1, 4)); k < n; ++k) p = damage(p, gen);
      try {
        space->validate(p);
      } catch (const Error&) {
        ++refused;
        continue;
      }
      ++accepted;
      check_point_contract(*space, p);
      (void)space->mutate(p, gen);
      if (const auto* arch = dynamic_cast<const ArchSpace*>(space.get())) {
        EXPECT_GT(arch->count_parameters(p, {}), 0);
      }
    }
    EXPECT_GT(refused, 1000);
    EXPECT_GT(accepted, 0);
  }
}

}  // namespace
}  // namespace fusenas::nas::space
