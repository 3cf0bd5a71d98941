// RecurrentLm with DARTS's recurrent cell against an LM written from DARTS's equations in torch
// (tests/support/oracle_ops/recurrent_lm.py): the loss of a window and the gradient of every
// weight, in float64; one training step of each DARTS cell, with its recurrent dropout mask,
// against the same equations (the search cell with its batch norms and alphas).
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "support/gradcheck.h"
#include "support/parity.h"
#include "support/torch_oracle.h"

namespace fusenas::nas::rnn {
namespace {

// Random 0/2 entries: the mask of recurrent dropout at p = 0.5.
Tensor random_mask(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return scale(randint(shape, 0, 2, gen).to(DType::Float64), 2.0);
}

void expect_cell_step_matches_torch(
    const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&)>& step,
    std::vector<Tensor> weights, const nlohmann::json& params, const Tensor& alphas) {
  constexpr int64_t kBatch = 4, kIn = 3, kHidden = 5;
  const Tensor x = testing::random_double({kBatch, kIn}, 21);
  const Tensor h = testing::random_double({kBatch, kHidden}, 22);
  const Tensor mask = random_mask({kBatch, kHidden}, 23);
  const Tensor out = step(x, h, mask, alphas);
  const Tensor seed = testing::random_double({kBatch, kHidden}, 24, -1, 1, false);
  sum(mul(out, seed)).backward();

  std::vector<Tensor> inputs = {x, h, mask};
  for (const Tensor& w : weights) inputs.push_back(w);
  if (alphas.defined()) inputs.push_back(alphas);
  const testing::OracleCase c{"darts_rnn_cell", params, inputs, {seed}, {}};
  const auto torch = testing::run_torch({c}).at(0);
  EXPECT_LT(testing::max_relative_error(out, torch.outputs.at(0)), 1e-12);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i == 2) continue;  // the mask is data
    SCOPED_TRACE(i);
    EXPECT_LT(testing::max_relative_error(inputs[i].grad(), torch.input_grads.at(i)), 1e-10);
  }
}

TEST(RecurrentCellParity, DartsCellStepWithRecurrentDropoutMatchesTorch) {
  Generator gen(5);
  const RecurrentGenotype g = builtin_recurrent_genotype("DARTS_V2");
  DartsRecurrentCell cell(g, 3, 5, gen);
  cell.to(DType::Float64);
  nlohmann::json recurrent = nlohmann::json::array();
  for (const RecurrentEdge& e : g.recurrent)
    recurrent.push_back({std::string(activation_name(e.op)), e.input});
  expect_cell_step_matches_torch([&](const Tensor& x, const Tensor& h, const Tensor& mask,
                                     const Tensor&) { return cell.forward(x, h, mask); },
                                 cell.weights(), {{"recurrent", recurrent}, {"concat", g.concat}},
                                 {});
}

TEST(RecurrentCellParity, DartsSearchCellStepMatchesTorch) {
  Generator gen(6);
  DartsRecurrentSearchCell cell(3, 5, gen, /*steps=*/4);
  cell.to(DType::Float64);
  // Weights ten times DARTS's init range, so that every candidate's path matters.
  for (const Tensor& w : cell.weights()) w.mul_(10.0);
  expect_cell_step_matches_torch(
      [&](const Tensor& x, const Tensor& h, const Tensor& mask, const Tensor& alphas) {
        return cell.forward(x, h, alphas, mask);
      },
      cell.weights(), {{"search", true}}, testing::random_double({cell.num_edges(), 5}, 25));
}

TEST(RecurrentLmParity, DartsCellLossAndGradientsMatchTorch) {
  constexpr int64_t kVocab = 9, kHidden = 5;
  for (const char* name : {"DARTS_V1", "DARTS_V2"}) {
    SCOPED_TRACE(name);
    Generator gen(13);
    const RecurrentGenotype g = builtin_recurrent_genotype(name);
    auto cell = std::make_shared<DartsRecurrentCell>(g, kHidden, kHidden, gen);
    RecurrentLm lm(kVocab, cell, gen);
    lm.to(DType::Float64);
    lm.eval();  // no dropout: both sides are deterministic
    Generator data(2);
    const Tensor tokens = randint({4, 3}, 0, kVocab, data);
    const Tensor targets = randint({4, 3}, 0, kVocab, data);
    const Tensor loss = lm.loss(lm.forward(tokens, lm.zero_state(3), {}, nullptr), targets);
    loss.backward();

    std::vector<Tensor> inputs = {lm.embedding, lm.decoder_bias};
    for (const Tensor& w : cell->weights()) inputs.push_back(w);
    inputs.push_back(tokens);
    inputs.push_back(targets);
    nlohmann::json recurrent = nlohmann::json::array();
    for (const RecurrentEdge& e : g.recurrent)
      recurrent.push_back({std::string(activation_name(e.op)), e.input});
    const testing::OracleCase c{"darts_rnn_lm",
                                {{"recurrent", recurrent}, {"concat", g.concat}},
                                inputs,
                                {ones({1}, TensorOptions{}.with_dtype(DType::Float64))},
                                {}};
    const auto torch = testing::run_torch({c}).at(0);
    EXPECT_LT(testing::max_relative_error(loss.reshape({1}), torch.outputs.at(0)), 1e-12);
    for (size_t i = 0; i + 2 < inputs.size(); ++i) {
      SCOPED_TRACE(i == 0 ? "embedding" : i == 1 ? "decoder bias" : "cell weight");
      EXPECT_LT(testing::max_relative_error(inputs[i].grad(), torch.input_grads.at(i)), 1e-10);
    }
  }
}

}  // namespace
}  // namespace fusenas::nas::rnn
