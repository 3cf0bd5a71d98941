// RecurrentLm with DARTS's recurrent cell against an LM written from DARTS's equations in torch
// (tests/support/oracle_ops/recurrent_lm.py): the loss of a window and the gradient of every
// weight, in float64.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fusenas/engine/factory.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "support/parity.h"
#include "support/torch_oracle.h"

namespace fusenas::nas::rnn {
namespace {

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
