// TreeCell: a Zoph & Le tree cell (TreeCellArch) as an nn::Module composed from engine ops.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/rnn/tree_cell_arch.h"

namespace fusenas::nas::rnn {

// (h, c), each [N, hidden]: the tree cell carries a memory cell like an LSTM.
using TreeCellState = nn::LSTMState;

class TreeCell : public nn::Module {
 public:
  // weight_x [B*H, in] and weight_h [B*H, H] hold the leaves' W^x_i and W^h_i as row blocks
  // (leaf i: rows i*H..(i+1)*H-1), as NASCell's kernel and recurrent_kernel do; `bias` adds a
  // [B*H] bias on the recurrent side (NASCell's use_biases), off by default as there and in the
  // paper's formulas. All drawn from U(-1/sqrt(H), 1/sqrt(H)), weight_x first.
  TreeCell(TreeCellArch arch, int64_t input_size, int64_t hidden_size, Generator& gen,
           bool bias = false);

  std::string type_name() const override { return "TreeCell"; }
  using Module::forward;  // the single-input form throws: a step needs a state
  // x [N, in], state (h, c) each [N, H] -> (h_t, c_t). h_mask [N, H] (a scaled keep mask, as
  // the LM trainer's recurrent dropout) multiplies h_{t-1} where it enters W^h.
  TreeCellState forward(const Tensor& x, const TreeCellState& state, const Tensor& h_mask = {});
  TreeCellState zero_state(int64_t n) const;

  const TreeCellArch& arch() const { return arch_; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

  Tensor weight_x, weight_h;
  Tensor bias;  // undefined without bias

  std::vector<Tensor> weights() const { return {weight_x, weight_h}; }
  // DropConnect, as DartsRecurrentCell's: weight_h reads h(t-1) whole, weight_x none of it.
  void set_weight_masks(std::vector<Tensor> masks) { weight_masks_ = std::move(masks); }
  std::vector<int64_t> recurrent_columns() const { return {input_size_, 0}; }

 private:
  TreeCellArch arch_;
  int64_t input_size_, hidden_size_;
  std::vector<Tensor> weight_masks_;
};

}  // namespace fusenas::nas::rnn
