// Genotype validity as a property: over many random genotypes, validate() accepts exactly those
// whose evaluation network builds and runs a forward (and both file forms carry them); and the
// longest chain the limits allow trains on finite numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/primitives.h"

namespace fusenas::nas {
namespace {

// Tiny, so that hundreds of networks run in seconds under ASan; the image stays even so that
// every FactorizedReduce sees an even size, as CIFAR's 32 and Fashion-MNIST's 28 do.
constexpr int64_t kChannels = 2, kImage = 8, kBatch = 2;
constexpr int kLayers = 4;  // normal, reduction, reduction, normal: every kind of neighbour

EvalNetworkConfig tiny_config(const Genotype& g) {
  EvalNetworkConfig c;
  c.genotype = g;
  c.in_channels = 3;
  c.image_size = kImage;
  c.init_channels = kChannels;
  c.layers = kLayers;
  return c;
}

// The cells EvalNetwork stacks for kLayers, without its validate() call (its stem is replaced by
// an input of the stem's width). Returns "" when the forward ran, else what it threw.
std::string run_cells_unvalidated(const Genotype& g) {
  try {
    Generator gen(7);
    const int64_t stem_c = 3 * kChannels;
    Tensor s0 = uniform({kBatch, kImage, kImage, stem_c}, -1, 1, gen);
    Tensor s1 = s0;
    int64_t c_pp = stem_c, c_p = stem_c, c_cur = kChannels;
    bool reduction_prev = false;
    for (int i = 0; i < kLayers; ++i) {
      const bool reduction = i == kLayers / 3 || i == 2 * kLayers / 3;
      if (reduction) c_cur *= 2;
      EvalCell cell(g, c_pp, c_p, c_cur, reduction, reduction_prev, gen);
      Tensor next = cell.forward_cell(s0, s1, 0.0, gen);
      s0 = s1;
      s1 = next;
      reduction_prev = reduction;
      c_pp = c_p;
      c_p = cell.multiplier() * c_cur;
    }
    global_avg_pool(s1);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string validation_error(const Genotype& g) {
  try {
    g.validate();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

class RandomGenotypes {
 public:
  explicit RandomGenotypes(uint32_t seed) : rng_(seed) {}

  // Structured: the shape a search produces (inputs are earlier states, concats name nodes),
  // with a few of the mistakes a hand-written file makes. Unstructured: anything, mostly wrong.
  Genotype next(bool structured) {
    Genotype g;
    const int nodes = structured ? uniform(1, 5) : uniform(0, 5);
    const int reduce_nodes = !structured || chance(0.1) ? uniform(structured ? 1 : 0, 5) : nodes;
    g.normal = edges(nodes, structured);
    g.reduce = edges(reduce_nodes, structured);
    g.normal_concat = concat(2 + nodes, structured);
    g.reduce_concat = concat(2 + reduce_nodes, structured);
    return g;
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string op(bool structured) {
    static const std::vector<std::string> bad = {"conv_9x9", "identity", "", "SEP_CONV_3X3"};
    const auto& known = known_ops();
    if (chance(structured ? 0.01 : 0.05)) return bad[uniform(0, static_cast<int>(bad.size()) - 1)];
    return known[uniform(0, static_cast<int>(known.size()) - 1)];
  }

  std::vector<GenotypeEdge> edges(int nodes, bool structured) {
    std::vector<GenotypeEdge> out;
    for (int node = 0; node < nodes; ++node) {
      for (int k = 0; k < 2; ++k) {
        int input = uniform(0, node + 1);
        if (!structured && chance(0.1)) input = uniform(-2, node + 4);
        if (structured && chance(0.01)) input = node + 2;  // reads itself
        out.push_back({op(structured), input});
      }
    }
    if (!structured && chance(0.1)) out.push_back({op(structured), 0});  // an odd count
    return out;
  }

  std::vector<int> concat(int states, bool structured) {
    std::vector<int> out;
    if (!structured) {
      const int n = uniform(0, 6);
      for (int i = 0; i < n; ++i) out.push_back(uniform(-1, states + 1));
      return out;
    }
    for (int s = 2; s < states; ++s) {
      if (chance(0.6)) out.push_back(s);
    }
    if (out.empty()) out.push_back(uniform(2, states - 1));
    if (chance(0.25))
      out.insert(out.begin() + uniform(0, static_cast<int>(out.size())), uniform(0, 1));
    if (chance(0.15)) out.push_back(out[uniform(0, static_cast<int>(out.size()) - 1)]);
    return out;
  }

  std::mt19937 rng_;
};

TEST(GenotypeValidity, ValidateAcceptsExactlyTheGenotypesThatRun) {
  RandomGenotypes random(2026);
  int accepted = 0, refused = 0, failures = 0;
  for (int i = 0; i < 1000 && failures < 5; ++i) {
    const Genotype g = random.next(i % 2 == 0);
    const std::string invalid = validation_error(g);
    const std::string failed = run_cells_unvalidated(g);
    if (invalid.empty() != failed.empty()) {
      ++failures;
      ADD_FAILURE() << g.to_text() << "\nvalidate(): " << (invalid.empty() ? "accepts" : invalid)
                    << "\nforward: " << (failed.empty() ? "runs" : failed);
      continue;
    }
    if (!invalid.empty()) {
      ++refused;
      continue;
    }
    ++accepted;
    // Both file forms carry every accepted genotype.
    EXPECT_EQ(Genotype::parse_text(g.to_text()), g);
    EXPECT_EQ(Genotype::from_json(g.to_json()), g);
    // The real network (which validates first) builds and runs the same genotype too.
    Generator gen(3);
    EvalNetwork net(tiny_config(g), gen);
    const Tensor logits = net.forward(uniform({kBatch, kImage, kImage, 3}, -1, 1, gen));
    EXPECT_EQ(logits.shape(), (Shape{kBatch, 10})) << g.to_text();
  }
  // Both sides of the property are exercised.
  EXPECT_GT(accepted, 200) << refused;
  EXPECT_GT(refused, 200) << accepted;
}

// A skip_connect chain doubles its values at every node: the limit keeps the worst chain finite.
Genotype skip_chain(int nodes) {
  Genotype g;
  for (int node = 0; node < nodes; ++node) {
    g.normal.push_back({"skip_connect", node + 1});
    g.normal.push_back({"skip_connect", node + 1});
  }
  g.reduce = g.normal;
  g.normal_concat = g.reduce_concat = {nodes + 1};
  return g;
}

TEST(GenotypeValidity, TheLongestChainTheLimitsAllowTrainsOnFiniteNumbers) {
  const Genotype g = skip_chain(kMaxGenotypeNodes);
  ASSERT_EQ(validation_error(g), "");
  Generator gen(11);
  EvalNetwork net(tiny_config(g), gen);
  const Tensor x = uniform({kBatch, kImage, kImage, 3}, -1, 1, gen);
  const Tensor loss = cross_entropy(net.forward(x), randint({kBatch}, 0, 10, gen));
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  for (const auto& [name, p] : net.named_parameters()) {
    if (!p.grad().defined()) continue;
    for (float v : p.grad().to_vector<float>()) ASSERT_TRUE(std::isfinite(v)) << name;
  }
  EXPECT_NE(validation_error(skip_chain(kMaxGenotypeNodes + 1)).find("the limit is 32"),
            std::string::npos);
  EXPECT_NE(validation_error(skip_chain(2000)).find("has 2000 nodes; the limit is 32"),
            std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas
