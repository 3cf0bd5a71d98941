// DARTS's recurrent cells (Liu et al. 2019, sec. 3; quark0/darts rnn/model.py and
// model_search.py): DartsRecurrentCell runs a RecurrentGenotype, DartsRecurrentSearchCell the
// continuous relaxation over every (earlier state, op) pair. Both composed from engine ops.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/rnn/recurrent_genotype.h"

namespace fusenas::nas::rnn {

// DARTS's INITRANGE: its cell weights are drawn from U(-0.04, 0.04).
inline constexpr double kDartsInitRange = 0.04;

// s_0 = h + c_0 (tanh(W^h_0 [x; h]) - h) with c_0 = sigmoid(W^c_0 [x; h]); node i reads s_j:
// c = sigmoid(W^c_i s_j), s_i = s_j + c (op(W^h_i s_j) - s_j); h_t = mean of the concat states.
// No biases. DARTS's variational dropout masks on x and h belong to the trainer, not here.
class DartsRecurrentCell : public nn::Module {
 public:
  // weight_0 [2H, in + H] (rows 0..H-1 the gate c, H..2H-1 the candidate, DARTS's split order),
  // weight_i [2H, H] for node i = 1..steps; all U(-kDartsInitRange, kDartsInitRange) in order.
  DartsRecurrentCell(RecurrentGenotype genotype, int64_t ninp, int64_t nhid, Generator& gen);

  std::string type_name() const override { return "DartsRecurrentCell"; }
  using Module::forward;  // the single-input form throws: a step needs h_{t-1}
  // x [N, ninp], h [N, nhid] -> h_t [N, nhid]. h_mask [N, nhid] (DARTS's dropouth, scaled keep
  // mask) multiplies h where it enters W_0 and every state where it enters its node's W_i; the
  // highways read the states unmasked (rnn/model.py).
  Tensor forward(const Tensor& x, const Tensor& h, const Tensor& h_mask = {});

  const RecurrentGenotype& genotype() const { return genotype_; }
  int64_t ninp() const { return ninp_; }
  int64_t nhid() const { return nhid_; }
  // weight_0, weight_1, ... weight_steps.
  const std::vector<Tensor>& weights() const { return weights_; }
  // DropConnect (the LM's weight dropout): per weight, in weights() order, a scaled keep mask
  // multiplied in at every step until replaced; empty: none. recurrent_columns(): per weight, the
  // first column that reads h(t-1) or a state computed from it (the columns the LM masks).
  void set_weight_masks(std::vector<Tensor> masks) { weight_masks_ = std::move(masks); }
  std::vector<int64_t> recurrent_columns() const;

 private:
  RecurrentGenotype genotype_;
  int64_t ninp_, nhid_;
  std::vector<Tensor> weights_;
  std::vector<Tensor> weight_masks_;
};

// DARTS's search-space ops, in its PRIMITIVES order (the alphas' columns).
inline constexpr int kDartsRecurrentSearchOps = 5;  // none, tanh, relu, sigmoid, identity

// The relaxation of DARTS's rnn/model_search.py: node i (1..steps) applies its one weight W_i to
// every earlier state s_j and sums softmax(alpha_{j,i})_op * (s_j + c (op(h) - s_j)) over the
// states and the non-none ops (none contributes exactly zero). The h mask drops the states where
// they enter W_i, as DartsRecurrentCell's. s_0 and every node pass through one
// shared batch norm without affine parameters, as the reference does; h_t is the mean of the
// `steps` nodes. alphas: [steps (steps + 1) / 2, 5], row offset(i) + j for edge s_j -> node i.
class DartsRecurrentSearchCell : public nn::Module {
 public:
  DartsRecurrentSearchCell(int64_t ninp, int64_t nhid, Generator& gen, int steps = 8);

  std::string type_name() const override { return "DartsRecurrentSearchCell"; }
  using Module::forward;
  // h_mask as DartsRecurrentCell::forward's.
  Tensor forward(const Tensor& x, const Tensor& h, const Tensor& alphas, const Tensor& h_mask = {});

  int steps() const { return steps_; }
  int64_t ninp() const { return ninp_; }
  int64_t nhid() const { return nhid_; }
  int64_t num_edges() const { return static_cast<int64_t>(steps_) * (steps_ + 1) / 2; }
  // DARTS's parse: per node the earlier state whose best non-none op weighs most, with that op;
  // concat = all nodes. alphas as in forward (raw, the softmax is taken here).
  RecurrentGenotype derive_genotype(const Tensor& alphas) const;

  const std::vector<Tensor>& weights() const { return weights_; }
  // DropConnect (the LM's weight dropout): per weight, in weights() order, a scaled keep mask
  // multiplied in at every step until replaced; empty: none. recurrent_columns(): per weight, the
  // first column that reads h(t-1) or a state computed from it (the columns the LM masks).
  void set_weight_masks(std::vector<Tensor> masks) { weight_masks_ = std::move(masks); }
  std::vector<int64_t> recurrent_columns() const;

 private:
  void check_alphas(const Tensor& alphas) const;

  int steps_;
  int64_t ninp_, nhid_;
  std::vector<Tensor> weights_;
  std::vector<Tensor> weight_masks_;
  Tensor running_mean_, running_var_;
};

}  // namespace fusenas::nas::rnn
