// A word-level language model around one recurrent cell (DARTS's, ENAS's or Zoph & Le's tree
// cell), as AWD-LSTM and DARTS build theirs: a tied embedding and decoder, the cell run over a
// window's time steps, locked and embedding dropout, and the loss over the window.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/rnn/recurrent_arch.h"

namespace fusenas::nas::rnn {

// The dropout rates (DARTS's rnn/train.py names; 0 turns one off). Every mask is drawn once per
// window and per sequence (variational), from the generator passed to forward(), so a seeded run
// repeats.
struct LmDropout {
  double input = 0;      // dropouti: locked dropout on the embeddings
  double x = 0;          // dropoutx: on each step's input to the cell
  double h = 0;          // dropouth: on h_{t-1} where it enters the cell's input transform
  double output = 0;     // dropout: locked dropout on the cell's outputs before the decoder
  double embedding = 0;  // dropoute: whole words dropped from the embedding table
  // wdrop: DropConnect (AWD-LSTM's WeightDrop) on the cell's recurrent weights, the columns that
  // read h(t-1) or a state computed from it (recurrent_columns()); one mask per window.
  double weight = 0;
};

// The recurrent state carried across windows: h, and c for the tree cell (undefined otherwise).
using LmState = nn::LSTMState;

// One window's dropout masks (scaled keep masks; undefined: that dropout is off), drawn before the
// window runs so that the window's computation reads no random state: a CUDA graph of it replays
// with the masks copied in.
struct LmMasks {
  Tensor embedding;             // [vocab, 1]: whole words
  Tensor input;                 // [1, batch, hidden]: locked, on the embeddings
  Tensor x;                     // [batch, hidden]: each step's input to the cell
  Tensor h;                     // [batch, hidden]: the cell's recurrent inputs
  std::vector<Tensor> weights;  // DropConnect, per cell weight (see the cell's set_weight_masks)
  Tensor output;                // [1, batch, hidden]: locked, on the cell's outputs
};

class RecurrentLm : public nn::Module {
 public:
  // The embedding size is the cell's input size and must equal its hidden size: the decoder is
  // the embedding's transpose (tied weights) plus a bias, as in DARTS's PTB model. The embedding
  // is drawn from U(-0.1, 0.1) (AWD-LSTM's init_weights), the decoder bias starts at 0.
  RecurrentLm(int64_t vocab_size, RecurrentCell cell, Generator& gen);

  std::string type_name() const override { return "RecurrentLm"; }
  using Module::forward;  // the single-input form throws: a window needs a state

  struct Output {
    Tensor logits;   // [steps * batch, vocab], row t * batch + b
    LmState state;   // after the last step; detach it before the next window
    Tensor raw;      // [steps, batch, hidden]: the cell's outputs h_t (TAR reads these)
    Tensor dropped;  // raw after the output dropout (AR reads these; raw in eval mode)
  };
  // tokens: int64 [steps, batch] (a BPTT window's inputs). Dropout applies in training mode only
  // and needs `gen` then (nullptr in eval mode).
  Output forward(const Tensor& tokens, const LmState& state, const LmDropout& dropout,
                 Generator* gen);
  // The same on masks drawn beforehand (by draw_masks, or none at all).
  Output forward(const Tensor& tokens, const LmState& state, const LmMasks& masks);
  // A window's masks for `batch` sequences in the order forward(dropout, gen) draws them: none in
  // eval mode or with every rate 0. Throws for a rate outside [0, 1).
  LmMasks draw_masks(const LmDropout& dropout, int64_t batch, Generator& gen) const;
  // Mean cross-entropy (nats per token) of the window's next-token targets [steps, batch].
  Tensor loss(const Output& out, const Tensor& targets) const;
  LmState zero_state(int64_t batch) const;
  int64_t hidden_size() const { return hidden_; }
  // A DARTS search cell's mixing weights [edges, 5], raw (the cell takes their softmax); not a
  // parameter of the model: the architect owns and steps them. Required before forward() with a
  // search cell; rejected for the other cells.
  void set_alphas(const Tensor& alphas);

  Tensor embedding;     // [vocab, hidden], also the decoder's weight
  Tensor decoder_bias;  // [vocab]

 private:
  LmState step(const Tensor& x, const LmState& state, const Tensor& h_mask);

  RecurrentCell cell_;
  int64_t hidden_ = 0;
  Tensor alphas_;
};

// State with every tensor detached from the graph (the hidden state carried across windows).
LmState detach(const LmState& s);

}  // namespace fusenas::nas::rnn
