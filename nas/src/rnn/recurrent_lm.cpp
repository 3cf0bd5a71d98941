// RecurrentLm: the tied embedding/decoder around a recurrent cell, the time loop over a window,
// and AWD-LSTM's locked and embedding dropout as masks multiplied in (composed ops, so autograd
// gives the backward).
#include "fusenas/nas/rnn/recurrent_lm.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"

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

RecurrentLm::Output RecurrentLm::forward(const Tensor& tokens, const LmState& state,
                                         const LmDropout& dropout, Generator* gen) {
  FUSENAS_CHECK(tokens.dim() == 2, "LM: tokens must be [steps, batch], got {}",
                shape_str(tokens.shape()));
  const int64_t steps = tokens.size(0), batch = tokens.size(1);
  FUSENAS_CHECK(state.h.defined() && state.h.size(0) == batch,
                "LM: the state holds a batch of {}, the window {}",
                state.h.defined() ? state.h.size(0) : 0, batch);
  const bool drop =
      is_training() && (dropout.input > 0 || dropout.x > 0 || dropout.h > 0 || dropout.output > 0 ||
                        dropout.embedding > 0 || dropout.weight > 0);
  check_rate(dropout.input, "input");
  check_rate(dropout.x, "x");
  check_rate(dropout.h, "h");
  check_rate(dropout.output, "output");
  check_rate(dropout.embedding, "embedding");
  check_rate(dropout.weight, "weight");
  FUSENAS_CHECK(!drop || gen != nullptr, "LM: dropout in training mode needs a generator");
  const TensorOptions options = embedding.options();
  // Embedding dropout drops whole rows (words) of the table for this window.
  Tensor table = embedding;
  if (drop && dropout.embedding > 0)
    table = mul(embedding, keep_mask({embedding.size(0), 1}, dropout.embedding, *gen, options));
  Tensor x = ::fusenas::embedding(table, tokens);  // [steps, batch, H]
  // Locked dropout: one mask per sequence (batch column), the same at every step.
  const auto locked = [&](const Tensor& t, double p) {
    if (!drop || p <= 0) return t;
    return mul(t, keep_mask({1, batch, hidden_}, p, *gen, options));
  };
  x = locked(x, dropout.input);
  const auto step_mask = [&](double p) {
    return drop && p > 0 ? keep_mask({batch, hidden_}, p, *gen, options) : Tensor();
  };
  const Tensor x_mask = step_mask(dropout.x);
  const Tensor h_mask = step_mask(dropout.h);
  // DropConnect: the weights' recurrent columns masked for this window, the others kept.
  std::visit(
      [&](const auto& c) {
        std::vector<Tensor> masks;
        if (drop && dropout.weight > 0) {
          const std::vector<int64_t> first = c->recurrent_columns();
          const auto weights = c->weights();
          for (size_t i = 0; i < weights.size(); ++i) {
            const int64_t rows = weights[i].size(0), cols = weights[i].size(1);
            if (first[i] >= cols) {
              masks.emplace_back();
              continue;
            }
            Tensor m = keep_mask({rows, cols - first[i]}, dropout.weight, *gen, options);
            if (first[i] > 0) m = concat({ones({rows, first[i]}, options), m}, 1);
            masks.push_back(m);
          }
        }
        c->set_weight_masks(std::move(masks));
      },
      cell_);
  LmState s = state;
  std::vector<Tensor> outputs;
  for (int64_t t = 0; t < steps; ++t) {
    Tensor in = x.narrow(0, t, 1).reshape({batch, hidden_});
    if (x_mask.defined()) in = mul(in, x_mask);
    s = step(in, s, h_mask);
    outputs.push_back(s.h.reshape({1, batch, hidden_}));
  }
  std::visit([](const auto& c) { c->set_weight_masks({}); }, cell_);
  Output out;
  out.raw = concat(outputs, 0);
  out.dropped = locked(out.raw, dropout.output);
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
