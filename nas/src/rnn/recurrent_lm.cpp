// RecurrentLm: the tied embedding/decoder around a recurrent cell, the time loop over a window,
// and AWD-LSTM's locked and embedding dropout as masks multiplied in (composed ops, so autograd
// gives the backward).
#include "fusenas/nas/rnn/recurrent_lm.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "rnn/step_mask.h"

namespace fusenas::nas::rnn {
namespace {

// A keep mask scaled by 1 / (1 - p), drawn by the engine's dropout op (on the tensors' device,
// from `gen`'s counter).
Tensor keep_mask(const Shape& shape, double p, Generator& gen, const TensorOptions& options) {
  return dropout(ones(shape, options), p, /*training=*/true, gen);
}

void check_rate(double p, const char* name) {
  FUSENAS_CHECK(p >= 0 && p < 1, "LM dropout: {} must lie in [0, 1), got {}", name, p);
}

void check_rates(const LmDropout& d) {
  check_rate(d.input, "input");
  check_rate(d.x, "x");
  check_rate(d.h, "h");
  check_rate(d.output, "output");
  check_rate(d.embedding, "embedding");
  check_rate(d.weight, "weight");
}

}  // namespace

RecurrentLm::RecurrentLm(int64_t vocab_size, RecurrentCell cell, Generator& gen)
    : cell_(std::move(cell)) {
  FUSENAS_CHECK(vocab_size >= 2, "LM: the vocabulary needs at least 2 tokens, got {}", vocab_size);
  int64_t input = 0;
  std::visit(
      [&](const auto& c) {
        FUSENAS_CHECK(c != nullptr, "LM: no cell");
        using Cell = std::decay_t<decltype(*c)>;
        if constexpr (std::is_same_v<Cell, DartsRecurrentCell> ||
                      std::is_same_v<Cell, DartsRecurrentSearchCell>) {
          input = c->ninp();
          hidden_ = c->nhid();
        } else {
          input = c->input_size();
          hidden_ = c->hidden_size();
        }
        register_module("cell", c);
      },
      cell_);
  FUSENAS_CHECK(input == hidden_,
                "LM: the cell's input size {} must equal its hidden size {} (the decoder is the "
                "tied embedding)",
                input, hidden_);
  embedding = register_parameter("embedding", Tensor::empty({vocab_size, hidden_}));
  nn::init::uniform_(embedding, -0.1, 0.1, gen);
  decoder_bias = register_parameter("decoder_bias", zeros({vocab_size}));
}

void RecurrentLm::set_alphas(const Tensor& alphas) {
  FUSENAS_CHECK(std::holds_alternative<std::shared_ptr<DartsRecurrentSearchCell>>(cell_),
                "LM: only a DARTS search cell takes alphas");
  alphas_ = alphas;
}

LmState RecurrentLm::zero_state(int64_t batch) const {
  LmState s;
  s.h = zeros({batch, hidden_}, embedding.options());
  if (std::holds_alternative<std::shared_ptr<TreeCell>>(cell_))
    s.c = zeros({batch, hidden_}, embedding.options());
  return s;
}

LmState RecurrentLm::step(const Tensor& x, const LmState& state, const Tensor& h_mask) {
  return std::visit(
      [&](const auto& c) -> LmState {
        using Cell = std::decay_t<decltype(*c)>;
        if constexpr (std::is_same_v<Cell, TreeCell>) {
          return c->forward(x, state, h_mask);
        } else if constexpr (std::is_same_v<Cell, DartsRecurrentSearchCell>) {
          FUSENAS_CHECK(alphas_.defined(), "LM: a search cell needs its alphas (set_alphas)");
          return {c->forward(x, state.h, alphas_, h_mask), Tensor()};
        } else {
          return {c->forward(x, state.h, h_mask), Tensor()};
        }
      },
      cell_);
}

LmMasks RecurrentLm::draw_masks(const LmDropout& dropout, int64_t batch, Generator& gen) const {
  check_rates(dropout);
  LmMasks m;
  if (!is_training()) return m;
  const TensorOptions options = embedding.options();
  const auto draw = [&](const Shape& shape, double p) {
    return p > 0 ? keep_mask(shape, p, gen, options) : Tensor();
  };
  m.embedding = draw({embedding.size(0), 1}, dropout.embedding);
  m.input = draw({1, batch, hidden_}, dropout.input);
  m.x = draw({batch, hidden_}, dropout.x);
  m.h = draw({batch, hidden_}, dropout.h);
  // DropConnect: the weights' recurrent columns masked for this window, the others kept.
  if (dropout.weight > 0) {
    std::visit(
        [&](const auto& c) {
          const std::vector<int64_t> first = c->recurrent_columns();
          const auto weights = c->weights();
          for (size_t i = 0; i < weights.size(); ++i) {
            const int64_t rows = weights[i].size(0), cols = weights[i].size(1);
            if (first[i] >= cols) {
              m.weights.emplace_back();
              continue;
            }
            Tensor w = keep_mask({rows, cols - first[i]}, dropout.weight, gen, options);
            if (first[i] > 0) w = concat({ones({rows, first[i]}, options), w}, 1);
            m.weights.push_back(w);
          }
        },
        cell_);
  }
  m.output = draw({1, batch, hidden_}, dropout.output);
  return m;
}

RecurrentLm::Output RecurrentLm::forward(const Tensor& tokens, const LmState& state,
                                         const LmDropout& dropout, Generator* gen) {
  check_rates(dropout);
  const bool drop =
      is_training() && (dropout.input > 0 || dropout.x > 0 || dropout.h > 0 || dropout.output > 0 ||
                        dropout.embedding > 0 || dropout.weight > 0);
  FUSENAS_CHECK(!drop || gen != nullptr, "LM: dropout in training mode needs a generator");
  FUSENAS_CHECK(tokens.dim() == 2, "LM: tokens must be [steps, batch], got {}",
                shape_str(tokens.shape()));
  return forward(tokens, state, drop ? draw_masks(dropout, tokens.size(1), *gen) : LmMasks{});
}

RecurrentLm::Output RecurrentLm::forward(const Tensor& tokens, const LmState& state,
                                         const LmMasks& masks) {
  FUSENAS_CHECK(tokens.dim() == 2, "LM: tokens must be [steps, batch], got {}",
                shape_str(tokens.shape()));
  const int64_t steps = tokens.size(0), batch = tokens.size(1);
  FUSENAS_CHECK(state.h.defined() && state.h.size(0) == batch,
                "LM: the state holds a batch of {}, the window {}",
                state.h.defined() ? state.h.size(0) : 0, batch);
  Tensor x = ::fusenas::embedding(masked(embedding, masks.embedding), tokens);  // [T, N, H]
  x = masked(x, masks.input);
  std::visit([&](const auto& c) { c->set_weight_masks(masks.weights); }, cell_);
  LmState s = state;
  std::vector<Tensor> outputs;
  for (int64_t t = 0; t < steps; ++t) {
    const Tensor in = masked(x.narrow(0, t, 1).reshape({batch, hidden_}), masks.x);
    s = step(in, s, masks.h);
    outputs.push_back(s.h.reshape({1, batch, hidden_}));
  }
  std::visit([](const auto& c) { c->set_weight_masks({}); }, cell_);
  Output out;
  out.raw = concat(outputs, 0);
  out.dropped = masked(out.raw, masks.output);
  out.logits = linear(out.dropped.reshape({steps * batch, hidden_}), embedding, decoder_bias);
  out.state = s;
  return out;
}

Tensor RecurrentLm::loss(const Output& out, const Tensor& targets) const {
  FUSENAS_CHECK(targets.dim() == 2 && targets.numel() == out.logits.size(0),
                "LM: targets must be [steps, batch] matching the logits' {} rows, got {}",
                out.logits.size(0), shape_str(targets.shape()));
  return cross_entropy(out.logits, targets.reshape({targets.numel()}));
}

LmState detach(const LmState& s) {
  return {s.h.defined() ? s.h.detach() : Tensor(), s.c.defined() ? s.c.detach() : Tensor()};
}

}  // namespace fusenas::nas::rnn
