// EnasRecurrentArch validation and forms, ENAS's PTB cell, and EnasRecurrentCell's forward.
#include "fusenas/nas/rnn/enas_recurrent.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <sstream>
#include <utility>

#include "fusenas/engine/error.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "rnn/json_fields.h"
#include "rnn/step_mask.h"

namespace fusenas::nas::rnn {
namespace {

// ENAS's func_idx order (ptb_enas_child.py): 0 tanh, 1 relu, 2 identity, 3 sigmoid.
constexpr std::array<RnnActivation, 4> kEnasFuncs{
    RnnActivation::kTanh, RnnActivation::kRelu, RnnActivation::kIdentity, RnnActivation::kSigmoid};

int enas_func_index(RnnActivation a) {
  for (size_t i = 0; i < kEnasFuncs.size(); ++i) {
    if (kEnasFuncs[i] == a) return static_cast<int>(i);
  }
  FUSENAS_FAIL("enas recurrent arch: activation value {} is outside 0..{}", static_cast<int>(a),
               kNumRnnActivations - 1);
}

std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? shape_str(t.shape()) : std::string("undefined");
}

}  // namespace

void EnasRecurrentArch::validate() const {
  FUSENAS_CHECK(!nodes.empty() && num_nodes() <= kMaxEnasRecurrentNodes,
                "enas recurrent arch: {} nodes; a cell has 1..{}", num_nodes(),
                kMaxEnasRecurrentNodes);
  FUSENAS_CHECK(nodes[0].input == -1,
                "enas recurrent arch: node 0 reads x_t and h_(t-1), written as input -1, not {}",
                nodes[0].input);
  for (int j = 0; j < num_nodes(); ++j) {
    const EnasRecurrentNode& n = nodes[static_cast<size_t>(j)];
    FUSENAS_CHECK(valid_activation(n.activation),
                  "enas recurrent arch: node {} has activation value {}, outside 0..{}", j,
                  static_cast<int>(n.activation), kNumRnnActivations - 1);
    if (j > 0) {
      FUSENAS_CHECK(n.input >= 0 && n.input < j,
                    "enas recurrent arch: node {} reads node {}, but it can only read nodes 0..{}",
                    j, n.input, j - 1);
    }
  }
}

std::vector<int> EnasRecurrentArch::loose_ends() const {
  validate();
  std::vector<bool> used(nodes.size(), false);
  for (size_t j = 1; j < nodes.size(); ++j) used[static_cast<size_t>(nodes[j].input)] = true;
  std::vector<int> out;
  for (size_t j = 0; j < nodes.size(); ++j) {
    if (!used[j]) out.push_back(static_cast<int>(j));
  }
  return out;
}

std::string EnasRecurrentArch::to_json() const {
  validate();
  nlohmann::json ns = nlohmann::json::array();
  for (const EnasRecurrentNode& n : nodes) ns.push_back({n.input, activation_name(n.activation)});
  return nlohmann::json{{"nodes", ns}}.dump();
}

EnasRecurrentArch EnasRecurrentArch::from_json(const std::string& json) {
  constexpr std::string_view kWhat = "enas recurrent arch";
  const nlohmann::json j = detail::parse_object(json, kWhat);
  detail::require_keys(j, {"nodes"}, kWhat);
  const auto& ns = j.at("nodes");
  FUSENAS_CHECK(ns.is_array() && ns.size() <= kMaxEnasRecurrentNodes,
                "malformed enas recurrent arch JSON: 'nodes' must be an array of at most {} "
                "[input, \"activation\"] pairs",
                kMaxEnasRecurrentNodes);
  EnasRecurrentArch arch;
  for (const auto& n : ns) {
    const std::string where = fmt::format("enas recurrent node {}", arch.nodes.size());
    FUSENAS_CHECK(n.is_array() && n.size() == 2,
                  "malformed enas recurrent arch JSON: {} must be [input, \"activation\"], got {}",
                  where, n.dump());
    arch.nodes.push_back({detail::int_field(n.at(0), where),
                          activation_from_name(detail::string_field(n.at(1), where), where)});
  }
  arch.validate();
  return arch;
}

std::string EnasRecurrentArch::to_enas_string() const {
  validate();
  std::string out = std::to_string(enas_func_index(nodes[0].activation));
  for (size_t j = 1; j < nodes.size(); ++j) {
    out += fmt::format(" {} {}", nodes[j].input, enas_func_index(nodes[j].activation));
  }
  return out;
}

EnasRecurrentArch EnasRecurrentArch::from_enas_string(const std::string& arc) {
  FUSENAS_CHECK(arc.size() <= 1024, "enas recurrent arc string has {} bytes; the limit is 1024",
                arc.size());
  std::vector<int> v;
  std::istringstream in(arc);
  std::string token;
  while (in >> token) {
    FUSENAS_CHECK(token.size() <= 3 && token.find_first_not_of("0123456789") == std::string::npos,
                  "malformed enas recurrent arc string: '{}' is not a small non-negative integer",
                  token);
    v.push_back(std::stoi(token));
  }
  FUSENAS_CHECK(!v.empty() && v.size() % 2 == 1,
                "malformed enas recurrent arc string: expected node 0's activation and then "
                "(input, activation) pairs, an odd count of numbers, got {}",
                v.size());
  auto func = [&](int f, size_t node) {
    FUSENAS_CHECK(f >= 0 && f < static_cast<int>(kEnasFuncs.size()),
                  "enas recurrent arc string: node {} has activation number {}; ENAS's are 0 tanh, "
                  "1 relu, 2 identity, 3 sigmoid",
                  node, f);
    return kEnasFuncs[static_cast<size_t>(f)];
  };
  EnasRecurrentArch arch;
  arch.nodes.push_back({-1, func(v[0], 0)});
  for (size_t i = 1; i + 1 < v.size(); i += 2) {
    const size_t node = arch.nodes.size();
    FUSENAS_CHECK(node < kMaxEnasRecurrentNodes, "enas recurrent arc string: more than {} nodes",
                  kMaxEnasRecurrentNodes);
    arch.nodes.push_back({v[i], func(v[i + 1], node)});
  }
  arch.validate();
  return arch;
}

EnasRecurrentArch enas_ptb_recurrent_arch() {
  return EnasRecurrentArch::from_enas_string("0 0 0 1 1 2 1 2 0 2 0 5 1 1 0 6 1 8 1 8 1 8 1");
}

EnasRecurrentCell::EnasRecurrentCell(EnasRecurrentArch arch, int64_t input_size,
                                     int64_t hidden_size, Generator& gen)
    : arch_(std::move(arch)), input_size_(input_size), hidden_size_(hidden_size) {
  arch_.validate();
  FUSENAS_CHECK(input_size > 0 && hidden_size > 0,
                "EnasRecurrentCell: sizes must be positive, got input={} hidden={}", input_size,
                hidden_size);
  const int64_t h2 = 2 * hidden_size;
  weights_.push_back(register_parameter("w_prev", Tensor::empty({h2, input_size + hidden_size})));
  for (int j = 1; j < arch_.num_nodes(); ++j) {
    weights_.push_back(
        register_parameter("w_skip_" + std::to_string(j), Tensor::empty({h2, hidden_size})));
  }
  const double r = hidden_size <= 300 ? 0.1 : hidden_size <= 400 ? 0.05 : 0.04;
  for (const Tensor& w : weights_) nn::init::uniform_(w, -r, r, gen);
}

// w_prev reads [x; h]: its h columns start at the input size; every w_skip reads a state.
std::vector<int64_t> EnasRecurrentCell::recurrent_columns() const {
  std::vector<int64_t> cols(weights_.size(), 0);
  cols[0] = input_size_;
  return cols;
}

Tensor EnasRecurrentCell::forward(const Tensor& x, const Tensor& h, const Tensor& h_mask) {
  FUSENAS_CHECK(x.defined() && x.dim() == 2 && x.shape()[1] == input_size_,
                "EnasRecurrentCell: expected input [N, {}], got {}", input_size_,
                shape_or_undefined(x));
  FUSENAS_CHECK(h.defined() && h.shape() == Shape({x.shape()[0], hidden_size_}),
                "EnasRecurrentCell: expected h of shape [{}, {}], got {}", x.shape()[0],
                hidden_size_, shape_or_undefined(h));
  check_h_mask("EnasRecurrentCell", h_mask, h);
  const int64_t hs = hidden_size_;
  // ENAS splits the product as [candidate; gate].
  auto node = [&](const Tensor& s_prev, const Tensor& in, const Tensor& w, RnnActivation act) {
    const Tensor ht = linear(in, w);
    return highway(s_prev, sigmoid(ht.narrow(1, hs, hs)),
                   apply_activation(act, ht.narrow(1, 0, hs)));
  };
  std::vector<Tensor> states{node(h, concat({x, masked(h, h_mask)}, 1),
                                  masked_weight(weight_masks_, 0, weights_[0]),
                                  arch_.nodes[0].activation)};
  for (int j = 1; j < arch_.num_nodes(); ++j) {
    const EnasRecurrentNode& n = arch_.nodes[static_cast<size_t>(j)];
    const Tensor& s_prev = states[static_cast<size_t>(n.input)];
    const size_t w = static_cast<size_t>(j);
    states.push_back(
        node(s_prev, s_prev, masked_weight(weight_masks_, w, weights_[w]), n.activation));
  }
  const std::vector<int> ends = arch_.loose_ends();
  Tensor sum_ends = states[static_cast<size_t>(ends[0])];
  for (size_t i = 1; i < ends.size(); ++i) {
    sum_ends = add(sum_ends, states[static_cast<size_t>(ends[i])]);
  }
  return scale(sum_ends, 1.0 / static_cast<double>(ends.size()));
}

}  // namespace fusenas::nas::rnn
