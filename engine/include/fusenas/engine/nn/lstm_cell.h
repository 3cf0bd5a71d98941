// nn::LSTMCell: one step of an LSTM with PyTorch's parameter layout and gate order (i, f, g, o).
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

struct LSTMState {
  Tensor h;  // [N, hidden]
  Tensor c;  // [N, hidden]
};

class LSTMCell : public Module {
 public:
  // weight_ih [4H, in], weight_hh [4H, H], bias_ih [4H], bias_hh [4H] (registered and drawn in
  // that order), all from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
  LSTMCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias = true);

  std::string type_name() const override { return "LSTMCell"; }
  using Module::forward;  // the single-input form throws: an LSTM step needs a state
  // x [N, in], state (h, c) each [N, H] -> (h', c').
  LSTMState forward(const Tensor& x, const LSTMState& state);
  // Zeros (h, c) for a batch of n, on the parameters' device and dtype.
  LSTMState zero_state(int64_t n) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

  Tensor weight_ih, weight_hh;
  Tensor bias_ih, bias_hh;  // undefined without bias

 private:
  int64_t input_size_, hidden_size_;
};

}  // namespace fusenas::nn
