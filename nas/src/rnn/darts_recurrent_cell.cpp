// DARTS's recurrent cell and its search relaxation, composed from engine ops.
#include "fusenas/nas/rnn/darts_recurrent_cell.h"

#include <string>
#include <utility>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "rnn/step_mask.h"

namespace fusenas::nas::rnn {
namespace {

std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? shape_str(t.shape()) : std::string("undefined");
}

void check_step_inputs(const char* who, const Tensor& x, const Tensor& h, int64_t ninp,
                       int64_t nhid) {
  FUSENAS_CHECK(x.defined() && x.dim() == 2 && x.shape()[1] == ninp,
                "{}: expected input [N, {}], got {}", who, ninp, shape_or_undefined(x));
  FUSENAS_CHECK(h.defined() && h.shape() == Shape({x.shape()[0], nhid}),
                "{}: expected h of shape [{}, {}], got {}", who, x.shape()[0], nhid,
                shape_or_undefined(h));
}

std::vector<Tensor> register_weights(nn::Module& m, int steps, int64_t ninp, int64_t nhid,
                                     Generator& gen) {
  FUSENAS_CHECK(ninp > 0 && nhid > 0, "{}: sizes must be positive, got ninp={} nhid={}",
                m.type_name(), ninp, nhid);
  std::vector<Tensor> ws;
  ws.push_back(m.register_parameter("weight_0", Tensor::empty({2 * nhid, ninp + nhid})));
  for (int i = 1; i <= steps; ++i) {
    ws.push_back(
        m.register_parameter("weight_" + std::to_string(i), Tensor::empty({2 * nhid, nhid})));
  }
  for (const Tensor& w : ws) nn::init::uniform_(w, -kDartsInitRange, kDartsInitRange, gen);
  return ws;
}

// (gate, candidate pre-activation) of W s over s's last axis: DARTS splits c first, then h.
std::pair<Tensor, Tensor> gate_and_candidate(const Tensor& s, const Tensor& w, int64_t nhid) {
  const Tensor ch = linear(s, w);
  const int64_t last = ch.dim() - 1;
  return {sigmoid(ch.narrow(last, 0, nhid)), ch.narrow(last, nhid, nhid)};
}

Tensor initial_state(const Tensor& x, const Tensor& h, const Tensor& h_mask, const Tensor& w0,
                     int64_t nhid) {
  const auto [c0, pre] = gate_and_candidate(concat({x, masked(h, h_mask)}, 1), w0, nhid);
  return highway(h, c0, tanh(pre));
}

}  // namespace

// W_0 reads [x; h]: its h columns start at ninp; every node weight reads a state.
std::vector<int64_t> DartsRecurrentCell::recurrent_columns() const {
  std::vector<int64_t> cols(weights_.size(), 0);
  cols[0] = ninp_;
  return cols;
}

std::vector<int64_t> DartsRecurrentSearchCell::recurrent_columns() const {
  std::vector<int64_t> cols(weights_.size(), 0);
  cols[0] = ninp_;
  return cols;
}

DartsRecurrentCell::DartsRecurrentCell(RecurrentGenotype genotype, int64_t ninp, int64_t nhid,
                                       Generator& gen)
    : genotype_(std::move(genotype)), ninp_(ninp), nhid_(nhid) {
  genotype_.validate();
  weights_ = register_weights(*this, genotype_.steps(), ninp, nhid, gen);
}

Tensor DartsRecurrentCell::forward(const Tensor& x, const Tensor& h, const Tensor& h_mask) {
  check_step_inputs("DartsRecurrentCell", x, h, ninp_, nhid_);
  check_h_mask("DartsRecurrentCell", h_mask, h);
  std::vector<Tensor> states{
      initial_state(x, h, h_mask, masked_weight(weight_masks_, 0, weights_[0]), nhid_)};
  for (int i = 0; i < genotype_.steps(); ++i) {
    const RecurrentEdge& e = genotype_.recurrent[static_cast<size_t>(i)];
    const Tensor& s_prev = states[static_cast<size_t>(e.input)];
    const size_t w = static_cast<size_t>(i + 1);
    // As rnn/model.py: the h mask drops s_prev's units where they enter W_i, not in the highway.
    const auto [c, pre] = gate_and_candidate(masked(s_prev, h_mask),
                                             masked_weight(weight_masks_, w, weights_[w]), nhid_);
    states.push_back(highway(s_prev, c, apply_activation(e.op, pre)));
  }
  Tensor sum_states;
  for (const int s : genotype_.concat) {
    const Tensor& t = states[static_cast<size_t>(s)];
    sum_states = sum_states.defined() ? add(sum_states, t) : t;
  }
  return scale(sum_states, 1.0 / static_cast<double>(genotype_.concat.size()));
}

DartsRecurrentSearchCell::DartsRecurrentSearchCell(int64_t ninp, int64_t nhid, Generator& gen,
                                                   int steps)
    : steps_(steps), ninp_(ninp), nhid_(nhid) {
  FUSENAS_CHECK(steps >= 1 && steps <= kMaxRecurrentSteps,
                "DartsRecurrentSearchCell: steps {} must be in 1..{}", steps, kMaxRecurrentSteps);
  weights_ = register_weights(*this, steps, ninp, nhid, gen);
  running_mean_ = register_buffer("running_mean", zeros({nhid}));
  running_var_ = register_buffer("running_var", full({nhid}, 1.0));
}

void DartsRecurrentSearchCell::check_alphas(const Tensor& alphas) const {
  FUSENAS_CHECK(
      alphas.defined() && alphas.shape() == Shape({num_edges(), kDartsRecurrentSearchOps}),
      "DartsRecurrentSearchCell: expected alphas [{}, {}] (one row per edge, columns none, "
      "tanh, relu, sigmoid, identity), got {}",
      num_edges(), kDartsRecurrentSearchOps, shape_or_undefined(alphas));
}

Tensor DartsRecurrentSearchCell::forward(const Tensor& x, const Tensor& h, const Tensor& alphas,
                                         const Tensor& h_mask) {
  check_step_inputs("DartsRecurrentSearchCell", x, h, ninp_, nhid_);
  check_h_mask("DartsRecurrentSearchCell", h_mask, h);
  check_alphas(alphas);
  // The reference's BatchNorm1d(affine=False), one module shared by s_0 and every node.
  auto bn = [&](const Tensor& s) {
    return batch_norm(s, {}, {}, running_mean_, running_var_, is_training());
  };
  // Op k's weight on edge e at [k - 1, e]: each node reads one block of consecutive edges.
  const Tensor op_probs =
      softmax(alphas).narrow(1, 1, kDartsRecurrentSearchOps - 1).permute({1, 0});
  const Tensor s0 =
      bn(initial_state(x, h, h_mask, masked_weight(weight_masks_, 0, weights_[0]), nhid_));
  const int64_t batch = x.shape()[0];
  const Shape one_state{1, batch, nhid_};
  const Tensor node_mask = h_mask.defined() ? h_mask.reshape(one_state) : Tensor{};
  // As rnn/model_search.py, node i runs every earlier state through W_i at once: the states
  // stacked as [i, N, H] make one matrix product and a few elementwise ops per candidate, instead
  // of a chain of small ops per (edge, candidate) pair.
  std::vector<Tensor> states{s0};
  Tensor stacked = s0.reshape(one_state);
  int64_t offset = 0;
  for (int i = 1; i <= steps_; ++i) {
    const size_t w = static_cast<size_t>(i);
    const auto [c, pre] = gate_and_candidate(masked(stacked, node_mask),
                                             masked_weight(weight_masks_, w, weights_[w]), nhid_);
    std::vector<Tensor> unweighted;  // op-major: row (k - 1) * i + j is op k on state j
    for (int k = 1; k < kDartsRecurrentSearchOps; ++k) {  // column 0 is none: exactly zero
      unweighted.push_back(
          highway(stacked, c, apply_activation(static_cast<RnnActivation>(k - 1), pre))
              .reshape({i, batch * nhid_}));
    }
    const Tensor edge_weights = op_probs.narrow(1, offset, i).reshape({1, -1});
    const Tensor s = bn(matmul(edge_weights, concat(unweighted, 0)).reshape({batch, nhid_}));
    states.push_back(s);
    stacked = concat({stacked, s.reshape(one_state)}, 0);
    offset += i;
  }
  Tensor sum_nodes = states[1];
  for (int i = 2; i <= steps_; ++i) sum_nodes = add(sum_nodes, states[static_cast<size_t>(i)]);
  return scale(sum_nodes, 1.0 / static_cast<double>(steps_));
}

RecurrentGenotype DartsRecurrentSearchCell::derive_genotype(const Tensor& alphas) const {
  check_alphas(alphas);
  const std::vector<double> p =
      softmax(alphas.detach().to(DType::Float64).to(Device::cpu())).to_vector<double>();
  auto at = [&](int64_t row, int k) {
    return p[static_cast<size_t>(row * kDartsRecurrentSearchOps + k)];
  };
  RecurrentGenotype g;
  int64_t offset = 0;
  for (int i = 1; i <= steps_; ++i) {
    int best_j = 0, best_k = 1;
    double best = -1.0;
    for (int j = 0; j < i; ++j) {
      for (int k = 1; k < kDartsRecurrentSearchOps; ++k) {
        // Strictly greater: ties go to the earlier state and op, as the reference's sorts do.
        if (at(offset + j, k) > best) {
          best = at(offset + j, k);
          best_j = j;
          best_k = k;
        }
      }
    }
    g.recurrent.push_back({static_cast<RnnActivation>(best_k - 1), best_j});
    g.concat.push_back(i);
    offset += i;
  }
  return g;
}

}  // namespace fusenas::nas::rnn
