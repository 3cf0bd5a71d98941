// Zoph & Le's RNN controller (2017): a stacked LSTM that writes a layer-based network one decision
// at a time (filter height, filter width, filters, stride) and picks each layer's inputs with
// anchor-point attention; it samples architectures and scores given ones for REINFORCE.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/embedding.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::strategy {

// The values each layer decision may take, and the number of layers (the zoph-le space's options).
struct ZophLeChoices {
  int layers = 6;
  std::vector<int64_t> heights = {1, 3, 5, 7};
  std::vector<int64_t> widths = {1, 3, 5, 7};
  std::vector<int64_t> filters = {24, 36, 48, 64};
  std::vector<int64_t> strides = {1};  // a stride decision exists only with more than one value
};

struct ZophLeControllerConfig {
  // Zoph & Le 2017, sec. 4.1: "a two-layer LSTM with 35 hidden units on each layer", weights
  // "initialized uniformly between -0.08 and 0.08".
  int lstm_layers = 2;
  int64_t hidden_size = 35;
  double init_range = 0.08;
  ZophLeChoices choices;

  // Throws fusenas::Error naming the field for a non-positive size or count, a negative range or
  // an empty choice list.
  void validate() const;
};

// One architecture (a zoph-le space point) with the controller's scores for it: 0-d tensors in
// the controller's dtype, carrying autograd history back to its parameters.
struct PolicySample {
  space::Point point;
  Tensor log_prob;  // sum over every decision: categorical choices and anchor bits
  Tensor entropy;   // sum of the entropies of every decision's distribution
};

// Decision order per layer l: height, width, filters, stride (when there is a choice), each a
// softmax over its values whose embedding is the next step's input; then the anchor step, whose
// hidden state h_l is layer l's anchor. From layer 1 on, the anchor step decides one Bernoulli
// per earlier layer j: P(layer j feeds layer l) = sigmoid(v^T tanh(W_prev h_j + W_curr h_l)).
// The next layer's first input is the mean of the chosen layers' anchors (zeros when none; the
// start token after layer 0), as ENAS later did; the paper does not say what it fed there.
class ZophLeController : public nn::Module {
 public:
  ZophLeController(const ZophLeControllerConfig& config, Generator& init_gen);

  std::string type_name() const override { return "ZophLeController"; }
  using Module::forward;  // no single-tensor forward
  const ZophLeControllerConfig& config() const { return config_; }

  // Draws an architecture (one uniform number per decision from `gen`).
  PolicySample sample(Generator& gen);
  // Scores a given point: the same computation as sampling with every choice forced. Throws
  // fusenas::Error when a value is not among the choices or the layer or skip counts differ.
  PolicySample evaluate(const space::Point& point);

  static constexpr int kHeight = 0, kWidth = 1, kFilters = 2, kStride = 3;
  // The decisions each layer makes (3, or 4 with a stride choice).
  int decisions_per_layer() const;

  std::vector<std::shared_ptr<nn::LSTMCell>> lstm;         // lstm_layers stacked cells
  Tensor start;                                            // [1, H] the first input
  std::vector<std::shared_ptr<nn::Linear>> classifiers;    // per decision: H -> its value count
  std::vector<std::shared_ptr<nn::Embedding>> embeddings;  // per decision: values -> H
  std::shared_ptr<nn::Linear> attn_prev;                   // W_prev: H -> H, on earlier anchors
  std::shared_ptr<nn::Linear> attn_curr;                   // W_curr: H -> H, on the current anchor
  std::shared_ptr<nn::Linear> attn_v;                      // v: H -> 1

 private:
  PolicySample run(Generator* gen, const space::Point* forced);
  const std::vector<int64_t>& values(int decision) const;

  ZophLeControllerConfig config_;
};

}  // namespace fusenas::nas::strategy
