// MicroArch: an ENAS micro-space architecture (a normal and a reduction cell of B nodes, each node
// two (input, op) pairs), its validation, JSON and text forms, and conversion to/from Genotype.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fusenas/nas/genotype.h"

namespace fusenas::nas::enas {

// The 5 ops of the ENAS micro space, in ENAS's order (the controller's op index is this value).
enum class MicroOp : int { kSepConv3x3, kSepConv5x5, kAvgPool3x3, kMaxPool3x3, kIdentity };
inline constexpr int kNumMicroOps = 5;

// "sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "identity".
std::string_view micro_op_name(MicroOp op);
// Throws fusenas::Error naming the known ops for an unknown name.
MicroOp micro_op_from_name(std::string_view name);
const std::vector<std::string>& micro_op_names();

// Node k of a cell (state 2 + k) is op_a(state input_a) + op_b(state input_b). States 0 and 1 are
// the cell inputs; a node may read only the cell inputs and earlier nodes (input < 2 + k).
struct MicroNode {
  int input_a = 0;
  MicroOp op_a = MicroOp::kSepConv3x3;
  int input_b = 0;
  MicroOp op_b = MicroOp::kSepConv3x3;
  friend bool operator==(const MicroNode&, const MicroNode&) = default;
};
using MicroCell = std::vector<MicroNode>;

// The states (2 + k, ascending) of the nodes no other node reads: ENAS concatenates exactly these
// at the cell output. Never empty for a non-empty cell, since nothing reads the last node.
std::vector<int> unused_nodes(const MicroCell& cell);

struct MicroArch {
  MicroCell normal;
  MicroCell reduce;

  int num_nodes() const { return static_cast<int>(normal.size()); }
  // Throws fusenas::Error for an empty cell, cells of different sizes, an input index that reads
  // the node itself or a later one, or an op value outside MicroOp.
  void validate() const;

  // {"normal": [[input_a, "op_a", input_b, "op_b"], ...], "reduce": [...]}; from_json validates.
  std::string to_json() const;
  static MicroArch from_json(const std::string& json);

  // One line per node, "node 2 = sep_conv_3x3(0) + identity(1)", then the concatenated states.
  std::string to_text() const;
  // ENAS's own arc string: per node "input_a op_a input_b op_b", normal cell then reduce cell
  // separated by " | " (the form ENAS's logs print, for comparing runs).
  std::string to_enas_string() const;

  friend bool operator==(const MicroArch&, const MicroArch&) = default;
};

// identity -> skip_connect, the other ops keep their names; edges in node order (a then b);
// concat = unused_nodes(). Validates the arch first and the genotype after.
Genotype to_genotype(const MicroArch& arch);
// The inverse. Throws fusenas::Error when the genotype does not fit the micro space: an op other
// than the micro ops (skip_connect standing for identity), the cells' sizes, or a concat that is
// not exactly the unused nodes (its order does not matter; the result concatenates ascending).
MicroArch micro_arch_from_genotype(const Genotype& genotype);

}  // namespace fusenas::nas::enas
