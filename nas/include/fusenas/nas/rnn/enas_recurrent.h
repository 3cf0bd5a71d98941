// ENAS's recurrent cell (Pham et al. 2018, sec. 2.1; melodyguan/enas src/ptb/ptb_enas_child.py,
// the fixed-arc path): EnasRecurrentArch (per node the node it reads and its activation), its
// forms, the published PTB cell, and EnasRecurrentCell composed from engine ops.
#pragma once

#include <string>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/rnn/activation.h"

namespace fusenas::nas::rnn {

inline constexpr int kMaxEnasRecurrentNodes = 32;

// Node 0 reads x_t and h_{t-1} (input -1); node j > 0 reads one earlier node 0..j-1.
struct EnasRecurrentNode {
  int input = -1;
  RnnActivation activation = RnnActivation::kTanh;
  friend bool operator==(const EnasRecurrentNode&, const EnasRecurrentNode&) = default;
};

struct EnasRecurrentArch {
  std::vector<EnasRecurrentNode> nodes;

  int num_nodes() const { return static_cast<int>(nodes.size()); }
  // Throws fusenas::Error for no nodes or more than kMaxEnasRecurrentNodes, node 0 not reading
  // the input (-1), a later node reading itself, a later node or the input, or a bad activation.
  void validate() const;
  // The nodes no later node reads, ascending: h_t is their mean. Never empty (the last node).
  std::vector<int> loose_ends() const;

  std::string to_json() const;  // {"nodes": [[-1, "tanh"], [0, "relu"], ...]}
  static EnasRecurrentArch from_json(const std::string& json);
  // ENAS's fixed_arc string: node 0's activation, then "input activation" per later node, with
  // ENAS's activation numbers (0 tanh, 1 relu, 2 identity, 3 sigmoid), e.g. "0 0 0 1 1 ...".
  std::string to_enas_string() const;
  static EnasRecurrentArch from_enas_string(const std::string& arc);

  friend bool operator==(const EnasRecurrentArch&, const EnasRecurrentArch&) = default;
};

// ENAS's published PTB cell: scripts/ptb_final.sh of melodyguan/enas,
// fixed_arc = "0 0 0 1 1 2 1 2 0 2 0 5 1 1 0 6 1 8 1 8 1 8 1" (12 nodes, hidden 748).
EnasRecurrentArch enas_ptb_recurrent_arch();

// Node 0: [h~; t] = W_prev [x; h], s_0 = h + sigmoid(t) (act_0(h~) - h); node j reading s_i:
// [h~; t] = W_j s_i, s_j = s_i + sigmoid(t) (act_j(h~) - s_i); h_t = mean of the loose ends.
// No biases (the reference has none). Its variational dropout masks belong to the trainer.
class EnasRecurrentCell : public nn::Module {
 public:
  // w_prev [2H, in + H] and w_skip_j [2H, H] (j = 1..N-1); rows 0..H-1 are the candidate h~ and
  // H..2H-1 the gate t, ENAS's split order. Drawn from U(-r, r) with ENAS's rule: r = 0.1 for
  // H <= 300, 0.05 for H <= 400, else 0.04.
  EnasRecurrentCell(EnasRecurrentArch arch, int64_t input_size, int64_t hidden_size,
                    Generator& gen);

  std::string type_name() const override { return "EnasRecurrentCell"; }
  using Module::forward;  // the single-input form throws: a step needs h_{t-1}
  // x [N, in], h [N, H] -> h_t [N, H]. h_mask [N, H] (a scaled keep mask, ENAS's layer mask)
  // multiplies h where it enters w_prev only; node 0's highway reads h unmasked.
  Tensor forward(const Tensor& x, const Tensor& h, const Tensor& h_mask = {});

  const EnasRecurrentArch& arch() const { return arch_; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  // w_prev, then w_skip_1 .. w_skip_{N-1}.
  const std::vector<Tensor>& weights() const { return weights_; }
  // DropConnect (the LM's weight dropout): per weight, in weights() order, a scaled keep mask
  // multiplied in at every step until replaced; empty: none. recurrent_columns(): per weight, the
  // first column that reads h(t-1) or a state computed from it (the columns the LM masks).
  void set_weight_masks(std::vector<Tensor> masks) { weight_masks_ = std::move(masks); }
  std::vector<int64_t> recurrent_columns() const;

 private:
  EnasRecurrentArch arch_;
  int64_t input_size_, hidden_size_;
  std::vector<Tensor> weights_;
  std::vector<Tensor> weight_masks_;
};

}  // namespace fusenas::nas::rnn
