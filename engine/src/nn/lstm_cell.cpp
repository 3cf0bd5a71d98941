// nn::LSTMCell composed from differentiable engine ops (linear, narrow, sigmoid, tanh, mul, add).
#include "fusenas/engine/nn/lstm_cell.h"

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nn {

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, Generator& gen, bool bias)
    : input_size_(input_size), hidden_size_(hidden_size) {
  FUSENAS_CHECK(input_size > 0 && hidden_size > 0,
                "LSTMCell: sizes must be positive, got input={} hidden={}", input_size,
                hidden_size);
  const int64_t h4 = 4 * hidden_size;
  weight_ih = register_parameter("weight_ih", Tensor::empty({h4, input_size}));
  weight_hh = register_parameter("weight_hh", Tensor::empty({h4, hidden_size}));
  if (bias) {
    bias_ih = register_parameter("bias_ih", Tensor::empty({h4}));
    bias_hh = register_parameter("bias_hh", Tensor::empty({h4}));
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (const Tensor& p : parameters()) init::uniform_(p, -bound, bound, gen);
}

LSTMState LSTMCell::zero_state(int64_t n) const {
  const TensorOptions options = weight_ih.options();
  return {zeros({n, hidden_size_}, options), zeros({n, hidden_size_}, options)};
}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
  FUSENAS_CHECK(x.defined() && x.dim() == 2 && x.shape()[1] == input_size_,
                "LSTMCell: expected input [N, {}], got {}", input_size_,
                x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const Shape hidden_shape{x.shape()[0], hidden_size_};
  for (const Tensor* t : {&state.h, &state.c}) {
    FUSENAS_CHECK(t->defined() && t->shape() == hidden_shape,
                  "LSTMCell: expected state h and c of shape {}, got {} and {}",
                  shape_str(hidden_shape),
                  state.h.defined() ? shape_str(state.h.shape()) : std::string("undefined"),
                  state.c.defined() ? shape_str(state.c.shape()) : std::string("undefined"));
  }
  const Tensor gates = add(linear(x, weight_ih, bias_ih), linear(state.h, weight_hh, bias_hh));
  const int64_t h = hidden_size_;
  const Tensor i = sigmoid(gates.narrow(1, 0, h));
  const Tensor f = sigmoid(gates.narrow(1, h, h));
  const Tensor g = tanh(gates.narrow(1, 2 * h, h));
  const Tensor o = sigmoid(gates.narrow(1, 3 * h, h));
  const Tensor c_next = add(mul(f, state.c), mul(i, g));
  return {mul(o, tanh(c_next)), c_next};
}

}  // namespace fusenas::nn
