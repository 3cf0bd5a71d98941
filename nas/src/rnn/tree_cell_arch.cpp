// TreeCellArch validation, JSON form and the built-in tree cells.
#include "fusenas/nas/rnn/tree_cell_arch.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fusenas/engine/error.h"
#include "rnn/json_fields.h"

namespace fusenas::nas::rnn {
namespace {

constexpr std::string_view kWhat = "tree cell arch";

bool valid_combination(TreeCombination c) {
  const int v = static_cast<int>(c);
  return v >= 0 && v < kNumTreeCombinations;
}

bool power_of_two(int v) {
  return v > 0 && (v & (v - 1)) == 0;
}

}  // namespace

std::string_view combination_name(TreeCombination combination) {
  FUSENAS_CHECK(valid_combination(combination), "tree cell: combination value {} is outside 0..{}",
                static_cast<int>(combination), kNumTreeCombinations - 1);
  return combination == TreeCombination::kAdd ? "add" : "elem_mult";
}

TreeCombination combination_from_name(std::string_view name, std::string_view what) {
  if (name == "add") return TreeCombination::kAdd;
  if (name == "elem_mult") return TreeCombination::kElemMult;
  FUSENAS_FAIL("{}: unknown combination '{}'; expected add or elem_mult", what, name);
}

void TreeCellArch::validate() const {
  FUSENAS_CHECK(base >= 2 && base <= kMaxTreeBase && power_of_two(base),
                "tree cell arch: base {} must be a power of two in 2..{}", base, kMaxTreeBase);
  FUSENAS_CHECK(static_cast<int>(nodes.size()) == num_nodes(),
                "tree cell arch: a tree of base {} has {} tree indices, but {} nodes are given",
                base, num_nodes(), nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    FUSENAS_CHECK(valid_combination(nodes[k].combination),
                  "tree cell arch: tree index {} has combination value {}, outside 0..{}", k,
                  static_cast<int>(nodes[k].combination), kNumTreeCombinations - 1);
    FUSENAS_CHECK(valid_activation(nodes[k].activation),
                  "tree cell arch: tree index {} has activation value {}, outside 0..{}", k,
                  static_cast<int>(nodes[k].activation), kNumRnnActivations - 1);
  }
  FUSENAS_CHECK(valid_combination(inject_combination),
                "tree cell arch: the inject combination value {} is outside 0..{}",
                static_cast<int>(inject_combination), kNumTreeCombinations - 1);
  FUSENAS_CHECK(valid_activation(inject_activation),
                "tree cell arch: the inject activation value {} is outside 0..{}",
                static_cast<int>(inject_activation), kNumRnnActivations - 1);
  FUSENAS_CHECK(inject_index >= 0 && inject_index < num_nodes(),
                "tree cell arch: inject index {} is outside the tree's indices 0..{}", inject_index,
                num_nodes() - 1);
  FUSENAS_CHECK(cell_index >= 0 && cell_index < num_nodes(),
                "tree cell arch: cell index {} is outside the tree's indices 0..{}", cell_index,
                num_nodes() - 1);
}

std::string TreeCellArch::to_json() const {
  validate();
  nlohmann::json ns = nlohmann::json::array();
  for (const TreeNode& n : nodes) {
    ns.push_back({combination_name(n.combination), activation_name(n.activation)});
  }
  const nlohmann::json j{{"base", base},
                         {"nodes", ns},
                         {"inject",
                          {{"index", inject_index},
                           {"combination", combination_name(inject_combination)},
                           {"activation", activation_name(inject_activation)}}},
                         {"cell_index", cell_index}};
  return j.dump();
}

TreeCellArch TreeCellArch::from_json(const std::string& json) {
  const nlohmann::json j = detail::parse_object(json, kWhat);
  detail::require_keys(j, {"base", "nodes", "inject", "cell_index"}, kWhat);
  TreeCellArch arch;
  arch.base = detail::int_field(j.at("base"), "the tree cell's 'base'");
  const auto& ns = j.at("nodes");
  FUSENAS_CHECK(ns.is_array(), "malformed tree cell arch JSON: 'nodes' must be an array");
  for (const auto& n : ns) {
    FUSENAS_CHECK(n.is_array() && n.size() == 2,
                  "malformed tree cell arch JSON: tree index {} must be [\"combination\", "
                  "\"activation\"], got {}",
                  arch.nodes.size(), n.dump());
    const std::string where = fmt::format("tree index {}", arch.nodes.size());
    arch.nodes.push_back({combination_from_name(detail::string_field(n.at(0), where), where),
                          activation_from_name(detail::string_field(n.at(1), where), where)});
  }
  const auto& inject = j.at("inject");
  FUSENAS_CHECK(inject.is_object(), "malformed tree cell arch JSON: 'inject' must be an object");
  detail::require_keys(inject, {"index", "combination", "activation"}, "tree cell inject");
  arch.inject_index = detail::int_field(inject.at("index"), "the inject 'index'");
  arch.inject_combination = combination_from_name(
      detail::string_field(inject.at("combination"), "the inject 'combination'"), "cell inject");
  arch.inject_activation = activation_from_name(
      detail::string_field(inject.at("activation"), "the inject 'activation'"), "cell inject");
  arch.cell_index = detail::int_field(j.at("cell_index"), "'cell_index'");
  arch.validate();
  return arch;
}

TreeCellArch lecture_tree_cell() {
  using A = RnnActivation;
  using C = TreeCombination;
  TreeCellArch arch;
  arch.base = 2;
  arch.nodes = {{C::kAdd, A::kTanh}, {C::kElemMult, A::kRelu}, {C::kElemMult, A::kSigmoid}};
  arch.inject_combination = C::kAdd;
  arch.inject_activation = A::kRelu;
  arch.inject_index = 0;
  arch.cell_index = 1;
  return arch;
}

// The wiring of TensorFlow's NASCell (tf.contrib.rnn.NASCell, later tfa.rnn.NASCell), which
// implements the cell of Zoph & Le 2017, Figure 8 ("NAS cell with base 8"):
//   leaves l_i = act_i(comb_i(x W^x_i, h W^h_i)): sigmoid(+), relu(+), sigmoid(+), relu(*),
//            tanh(+), sigmoid(+), tanh(+), sigmoid(+);
//   level 2: tanh(l0 * l1), tanh(l2 + l3), tanh(l4 * l5), sigmoid(l6 + l7);
//   inject: the first level-2 node becomes tanh(it + c_{t-1});
//   level 3: identity(m0 * m1), which is also c_t, and tanh(m2 + m3); root: tanh(n0 * n1) = h_t.
// Tree indices: leaves 0..7, level 2 = 8..11, level 3 = 12..13, root 14.
TreeCellArch zoph_le_ptb_tree_cell() {
  using A = RnnActivation;
  const TreeNode add_sigmoid{TreeCombination::kAdd, A::kSigmoid};
  const TreeNode add_relu{TreeCombination::kAdd, A::kRelu};
  const TreeNode add_tanh{TreeCombination::kAdd, A::kTanh};
  const TreeNode mult_relu{TreeCombination::kElemMult, A::kRelu};
  const TreeNode mult_tanh{TreeCombination::kElemMult, A::kTanh};
  const TreeNode mult_identity{TreeCombination::kElemMult, A::kIdentity};
  TreeCellArch arch;
  arch.base = 8;
  arch.nodes = {add_sigmoid, add_relu,    add_sigmoid,   mult_relu, add_tanh,
                add_sigmoid, add_tanh,    add_sigmoid,   mult_tanh, add_tanh,
                mult_tanh,   add_sigmoid, mult_identity, add_tanh,  mult_tanh};
  arch.inject_combination = TreeCombination::kAdd;
  arch.inject_activation = A::kTanh;
  arch.inject_index = 8;
  arch.cell_index = 12;
  return arch;
}

TreeCellArch builtin_tree_cell(const std::string& name) {
  if (name == "lecture") return lecture_tree_cell();
  if (name == "zoph_le_ptb") return zoph_le_ptb_tree_cell();
  FUSENAS_FAIL("unknown built-in tree cell '{}'; known: lecture, zoph_le_ptb", name);
}

}  // namespace fusenas::nas::rnn
