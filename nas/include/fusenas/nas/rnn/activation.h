// The activations the recurrent search cells choose from, and the highway step DARTS's and ENAS's
// cells share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::nas::rnn {

// Zoph & Le's, DARTS's and ENAS's cells all choose among these four (DARTS's search space adds
// `none`, which only its search cell knows).
enum class RnnActivation : int { kTanh, kRelu, kSigmoid, kIdentity };
inline constexpr int kNumRnnActivations = 4;

// "tanh", "relu", "sigmoid", "identity".
std::string_view activation_name(RnnActivation activation);
// Throws fusenas::Error naming `what` (the field being read) and the known names.
RnnActivation activation_from_name(std::string_view name, std::string_view what);
bool valid_activation(RnnActivation activation);
const std::vector<std::string>& activation_names();

// Differentiable: tanh, relu, sigmoid or x itself.
Tensor apply_activation(RnnActivation activation, const Tensor& x);

// The highway form of DARTS's and ENAS's nodes: s_prev + gate * (candidate - s_prev).
Tensor highway(const Tensor& s_prev, const Tensor& gate, const Tensor& candidate);

}  // namespace fusenas::nas::rnn
