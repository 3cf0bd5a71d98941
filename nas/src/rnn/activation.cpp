// The recurrent cells' activation names and their engine ops.
#include "fusenas/nas/rnn/activation.h"

#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::rnn {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"tanh", "relu", "sigmoid", "identity"};
  return names;
}

bool valid_activation(RnnActivation activation) {
  const int v = static_cast<int>(activation);
  return v >= 0 && v < kNumRnnActivations;
}

std::string_view activation_name(RnnActivation activation) {
  FUSENAS_CHECK(valid_activation(activation),
                "recurrent cell: activation value {} is outside 0..{}",
                static_cast<int>(activation), kNumRnnActivations - 1);
  return activation_names()[static_cast<size_t>(activation)];
}

RnnActivation activation_from_name(std::string_view name, std::string_view what) {
  const auto& names = activation_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<RnnActivation>(i);
  }
  FUSENAS_FAIL("{}: unknown activation '{}'; expected one of {}", what, name,
               fmt::join(names, ", "));
}

Tensor apply_activation(RnnActivation activation, const Tensor& x) {
  switch (activation) {
    case RnnActivation::kTanh:
      return tanh(x);
    case RnnActivation::kRelu:
      return relu(x);
    case RnnActivation::kSigmoid:
      return sigmoid(x);
    case RnnActivation::kIdentity:
      return x;
  }
  FUSENAS_FAIL("recurrent cell: activation value {} is outside 0..{}", static_cast<int>(activation),
               kNumRnnActivations - 1);
}

Tensor highway(const Tensor& s_prev, const Tensor& gate, const Tensor& candidate) {
  return add(s_prev, mul(gate, sub(candidate, s_prev)));
}

}  // namespace fusenas::nas::rnn
