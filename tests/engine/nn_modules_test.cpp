// Conv2d, BatchNorm2d and Embedding modules: shapes, initialisation, running-statistics updates
// and state_dicts with buffers (needs the conv2d, batch_norm and embedding ops).
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/activation.h"
#include "fusenas/engine/nn/batch_norm.h"
#include "fusenas/engine/nn/conv2d.h"
#include "fusenas/engine/nn/embedding.h"
#include "fusenas/engine/nn/sequential.h"
#include "fusenas/engine/ops.h"

namespace fusenas {
namespace {

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

void expect_within(const Tensor& t, double bound) {
  double lo = 1, hi = -1;
  for (double v : t.to_vector<double>()) {
    EXPECT_LE(std::abs(v), bound + 1e-7);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // The draw spans the range rather than collapsing to a point.
  if (t.numel() >= 32) {
    EXPECT_LT(lo, -0.7 * bound);
    EXPECT_GT(hi, 0.7 * bound);
  }
}

TEST(NnConv2d, ShapesAndDefaultInit) {
  Generator gen(1);
  nn::Conv2d conv(3, 8, 3, Conv2dParams::square(1, 1), gen);
  EXPECT_EQ(conv.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_FALSE(conv.bias.defined());
  EXPECT_EQ(names_of(conv.named_parameters()), (std::vector<std::string>{"weight"}));
  expect_within(conv.weight, 1.0 / std::sqrt(27.0));
  const Tensor x = uniform({2, 5, 5, 3}, -1, 1, gen);
  EXPECT_EQ(conv(x).shape(), (Shape{2, 5, 5, 8}));

  nn::Conv2d strided(3, 4, 3, Conv2dParams::square(2, 1), gen, /*bias=*/true);
  EXPECT_EQ(strided(x).shape(), (Shape{2, 3, 3, 4}));
  expect_within(strided.bias, 1.0 / std::sqrt(27.0));
  EXPECT_EQ(strided(x).to_vector<float>(),
            conv2d(x, strided.weight, strided.bias, strided.params()).to_vector<float>());

  // Non-square kernel {1, 3} padded only along W keeps H and W.
  nn::Conv2d row(3, 6, {1, 3}, Conv2dParams{1, 1, 0, 1, 1, 1, 1}, gen);
  EXPECT_EQ(row.weight.shape(), (Shape{6, 1, 3, 3}));
  EXPECT_EQ(row(x).shape(), (Shape{2, 5, 5, 6}));

  // Depthwise: weights [C, kH, kW, 1], fan_in = kH*kW.
  nn::Conv2d depthwise(4, 4, 3, Conv2dParams::square(1, 2, 2, 4), gen);
  EXPECT_EQ(depthwise.weight.shape(), (Shape{4, 3, 3, 1}));
  expect_within(depthwise.weight, 1.0 / 3.0);
  EXPECT_EQ(depthwise(uniform({1, 6, 6, 4}, -1, 1, gen)).shape(), (Shape{1, 6, 6, 4}));

  EXPECT_THROW(nn::Conv2d(4, 6, 3, Conv2dParams::square(1, 1, 1, 4), gen), Error);
}

TEST(NnBatchNorm2d, ParametersAndBuffers) {
  nn::BatchNorm2d bn(5);
  EXPECT_EQ(names_of(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names_of(bn.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var"}));
  EXPECT_EQ(bn.weight.to_vector<float>(), std::vector<float>(5, 1));
  EXPECT_EQ(bn.bias.to_vector<float>(), std::vector<float>(5, 0));
  EXPECT_EQ(bn.running_var.to_vector<float>(), std::vector<float>(5, 1));
  EXPECT_FALSE(bn.running_mean.requires_grad());

  nn::BatchNorm2d plain(5, /*affine=*/false);
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_FALSE(plain.weight.defined());
  EXPECT_EQ(plain.state_dict().size(), 2u);
}

TEST(NnBatchNorm2d, TrainingUpdatesRunningStatsEvalUsesThem) {
  Generator gen(2);
  nn::BatchNorm2d bn(2, true, /*momentum=*/0.1);
  const Tensor x = uniform({4, 3, 3, 2}, -1, 3, gen);
  const auto v = x.to_vector<double>();
  const int64_t count = 4 * 3 * 3;
  std::vector<double> mean(2, 0), var(2, 0);
  for (size_t i = 0; i < v.size(); ++i) mean[i % 2] += v[i] / count;
  for (size_t i = 0; i < v.size(); ++i) var[i % 2] += std::pow(v[i] - mean[i % 2], 2);
  for (auto& s : var) s /= count - 1;  // running_var takes the unbiased batch variance

  const Tensor y = bn(x);
  EXPECT_EQ(y.shape(), x.shape());
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(bn.running_mean.at({c}), 0.1 * mean[c], 1e-5);
    EXPECT_NEAR(bn.running_var.at({c}), 0.9 + 0.1 * var[c], 1e-5);
  }

  bn.eval();
  const auto rm = bn.running_mean.to_vector<double>();
  const auto rv = bn.running_var.to_vector<double>();
  const Tensor z = bn(x);
  EXPECT_EQ(bn.running_mean.to_vector<double>(), rm);
  const auto zv = z.to_vector<double>();
  for (size_t i = 0; i < v.size(); i += 7) {
    EXPECT_NEAR(zv[i], (v[i] - rm[i % 2]) / std::sqrt(rv[i % 2] + 1e-5), 1e-5) << i;
  }
  EXPECT_THROW(bn(zeros({2, 3, 3, 4})), Error);
}

TEST(NnModules, StateDictCarriesBuffers) {
  Generator g1(3), g2(4);
  auto make = [](Generator& gen) {
    return nn::make_sequential(
        {std::make_shared<nn::Conv2d>(3, 4, 3, Conv2dParams::square(1, 1), gen),
         std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>()});
  };
  auto a = make(g1), b = make(g2);
  const auto keys = a->state_dict();
  std::vector<std::string> names;
  for (const auto& [name, t] : keys) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "1.bias", "1.running_mean",
                                             "1.running_var", "1.weight"}));
  const Tensor x = uniform({2, 4, 4, 3}, -1, 1, g1);
  a->forward(x);  // moves a's running statistics away from their initial values
  a->eval();
  b->eval();
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(b->state_dict().at("1.running_var").to_vector<float>(),
            a->state_dict().at("1.running_var").to_vector<float>());
  EXPECT_EQ(b->forward(x).to_vector<float>(), a->forward(x).to_vector<float>());

  auto bad = a->state_dict();
  bad["1.running_mean"] = zeros({5});
  try {
    b->load_state_dict(bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("1.running_mean"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
  }
}

TEST(NnEmbedding, NormalInitAndLookup) {
  Generator gen(5);
  nn::Embedding emb(1000, 16, gen);
  EXPECT_EQ(emb.weight.shape(), (Shape{1000, 16}));
  const auto w = emb.weight.to_vector<double>();
  double mean = 0, sq = 0;
  for (double v : w) mean += v / w.size();
  for (double v : w) sq += (v - mean) * (v - mean) / w.size();
  EXPECT_NEAR(mean, 0, 0.03);
  EXPECT_NEAR(std::sqrt(sq), 1, 0.03);

  const Tensor idx = from_vector(std::vector<int64_t>{3, 0, 999, 3, 7, 1}, {2, 3},
                                 TensorOptions{}.with_dtype(DType::Int64));
  const Tensor out = emb(idx);
  EXPECT_EQ(out.shape(), (Shape{2, 3, 16}));
  for (int64_t d = 0; d < 16; ++d) {
    EXPECT_EQ(out.at({0, 2, d}), emb.weight.at({999, d}));
    EXPECT_EQ(out.at({1, 0, d}), emb.weight.at({3, d}));
  }
  sum(out).backward();
  EXPECT_EQ(emb.weight.grad().at({3, 0}), 2);  // looked up twice
  EXPECT_EQ(emb.weight.grad().at({2, 0}), 0);
}

}  // namespace
}  // namespace fusenas
