// TreeCellArch: Zoph & Le's (2017) recurrent cell as a tree of computation steps, its validation,
// JSON form and the built-in cells (the lecture's worked example and Zoph & Le's PTB cell).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fusenas/nas/rnn/activation.h"

namespace fusenas::nas::rnn {

enum class TreeCombination : int { kAdd, kElemMult };
inline constexpr int kNumTreeCombinations = 2;
// "add", "elem_mult".
std::string_view combination_name(TreeCombination combination);
TreeCombination combination_from_name(std::string_view name, std::string_view what);

// One tree index: how it combines its two inputs and the activation applied after.
struct TreeNode {
  TreeCombination combination = TreeCombination::kAdd;
  RnnActivation activation = RnnActivation::kTanh;
  friend bool operator==(const TreeNode&, const TreeNode&) = default;
};

// The largest base accepted: 2^6 leaves is 8x the paper's, and keeps a cell's weights bounded.
inline constexpr int kMaxTreeBase = 64;

// A tree of base B (B leaves, B a power of two) has 2B - 1 tree indices, numbered level by level
// from the leaves: 0..B-1 are the leaves, B..B+B/2-1 the next level, and so on; the root is 2B-2.
// Leaf i combines W^x_i x_t and W^h_i h_{t-1}; the inner node at position p of its level combines
// positions 2p and 2p+1 of the level below. Node k computes pre_k = comb_k(left, right) and
// a_k = act_k(pre_k). Then:
// - cell inject: the output of `inject_index` that its parent reads (or h_t at the root) becomes
//   inject_activation(inject_combination(a_k, c_{t-1}));
// - cell index: c_t = pre_{cell_index}, the node's output *before* its activation (and before any
//   inject), as in Zoph & Le's example, where c_t = (W3 x_t) * (W4 h_{t-1}) for a ReLU node;
// - h_t is the root's output.
struct TreeCellArch {
  int base = 2;
  std::vector<TreeNode> nodes;  // 2 * base - 1
  TreeCombination inject_combination = TreeCombination::kAdd;
  RnnActivation inject_activation = RnnActivation::kTanh;
  int inject_index = 0;
  int cell_index = 0;

  int num_nodes() const { return 2 * base - 1; }
  // Throws fusenas::Error for a base that is not a power of two in 2..kMaxTreeBase, a node count
  // other than 2 * base - 1, an enum value out of range, or an index outside the tree.
  void validate() const;

  // {"base": 2, "nodes": [["add", "tanh"], ...], "inject": {"index": 0, "combination": "add",
  //  "activation": "relu"}, "cell_index": 1}; from_json validates and refuses unknown keys.
  std::string to_json() const;
  static TreeCellArch from_json(const std::string& json);

  friend bool operator==(const TreeCellArch&, const TreeCellArch&) = default;
};

// The lecture's (and Zoph & Le's sec. 3.4) worked example, base 2:
// a_0 = tanh(W1 x + W2 h), a_1 = relu((W3 x) * (W4 h)), a_0' = relu(a_0 + c_{t-1}),
// h_t = a_2 = sigmoid(a_0' * a_1), c_t = (W3 x) * (W4 h).
TreeCellArch lecture_tree_cell();
// Zoph & Le's published PTB cell (base 8), wired as TensorFlow's NASCell implements it.
TreeCellArch zoph_le_ptb_tree_cell();
// "lecture" or "zoph_le_ptb"; throws fusenas::Error naming the known cells.
TreeCellArch builtin_tree_cell(const std::string& name);

}  // namespace fusenas::nas::rnn
