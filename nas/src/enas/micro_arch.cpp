// MicroArch validation, JSON and text forms, and the Genotype conversion.
#include "fusenas/nas/enas/micro_arch.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>

#include "fusenas/engine/error.h"

namespace fusenas::nas::enas {
namespace {

// The DARTS/Genotype name of the identity op; every other micro op keeps its name.
constexpr std::string_view kGenotypeIdentity = "skip_connect";

bool valid_op(MicroOp op) {
  const int v = static_cast<int>(op);
  return v >= 0 && v < kNumMicroOps;
}

void validate_cell(const char* which, const MicroCell& cell) {
  FUSENAS_CHECK(!cell.empty(), "micro arch: the {} cell has no nodes", which);
  for (size_t k = 0; k < cell.size(); ++k) {
    const MicroNode& n = cell[k];
    const int state = 2 + static_cast<int>(k);
    for (const int input : {n.input_a, n.input_b}) {
      FUSENAS_CHECK(input >= 0 && input < state,
                    "micro arch: node {} of the {} cell reads state {}, but it can only read "
                    "states 0..{} (the cell inputs and earlier nodes)",
                    state, which, input, state - 1);
    }
    for (const MicroOp op : {n.op_a, n.op_b}) {
      FUSENAS_CHECK(valid_op(op),
                    "micro arch: node {} of the {} cell has op value {}, outside 0..{}", state,
                    which, static_cast<int>(op), kNumMicroOps - 1);
    }
  }
}

nlohmann::json cell_json(const MicroCell& cell) {
  nlohmann::json a = nlohmann::json::array();
  for (const MicroNode& n : cell) {
    a.push_back({n.input_a, micro_op_name(n.op_a), n.input_b, micro_op_name(n.op_b)});
  }
  return a;
}

// A node's input: a JSON integer that fits an int. 1.9, true or 4294967298 are refused, not cast
// (nlohmann's get<int> would make them 1, 1 and 2).
int input_from_json(const nlohmann::json& v, const char* which, size_t state) {
  bool fits = false;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= INT_MAX;
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    fits = i >= INT_MIN && i <= INT_MAX;
  }
  FUSENAS_CHECK(
      fits, "malformed micro arch JSON: node {} of '{}' reads state {}, which is not an integer",
      state, which, v.dump());
  return v.get<int>();
}

MicroCell cell_from_json(const char* which, const nlohmann::json& a) {
  FUSENAS_CHECK(a.is_array(), "malformed micro arch JSON: '{}' must be an array of nodes", which);
  MicroCell cell;
  for (const auto& n : a) {
    FUSENAS_CHECK(n.is_array() && n.size() == 4,
                  "malformed micro arch JSON: node {} of '{}' must be [input_a, \"op_a\", input_b, "
                  "\"op_b\"], got {}",
                  2 + cell.size(), which, n.dump());
    const size_t state = 2 + cell.size();
    cell.push_back(
        {input_from_json(n.at(0), which, state), micro_op_from_name(n.at(1).get<std::string>()),
         input_from_json(n.at(2), which, state), micro_op_from_name(n.at(3).get<std::string>())});
  }
  return cell;
}

std::string cell_text(const MicroCell& cell) {
  std::string s;
  for (size_t k = 0; k < cell.size(); ++k) {
    const MicroNode& n = cell[k];
    s += fmt::format("  node {} = {}({}) + {}({})\n", 2 + k, micro_op_name(n.op_a), n.input_a,
                     micro_op_name(n.op_b), n.input_b);
  }
  return s + fmt::format("  concat {}\n", fmt::join(unused_nodes(cell), " "));
}

std::string cell_enas(const MicroCell& cell) {
  std::vector<int> v;
  for (const MicroNode& n : cell) {
    v.insert(v.end(), {n.input_a, static_cast<int>(n.op_a), n.input_b, static_cast<int>(n.op_b)});
  }
  return fmt::format("{}", fmt::join(v, " "));
}

std::vector<GenotypeEdge> cell_edges(const MicroCell& cell) {
  auto name = [](MicroOp op) {
    return std::string(op == MicroOp::kIdentity ? kGenotypeIdentity : micro_op_name(op));
  };
  std::vector<GenotypeEdge> edges;
  for (const MicroNode& n : cell) {
    edges.push_back({name(n.op_a), n.input_a});
    edges.push_back({name(n.op_b), n.input_b});
  }
  return edges;
}

MicroCell cell_from_genotype(const char* which, const std::vector<GenotypeEdge>& edges,
                             const std::vector<int>& concat) {
  auto op = [&](size_t e) {
    const std::string& name = edges[e].op;
    if (name == kGenotypeIdentity) return MicroOp::kIdentity;
    const auto& names = micro_op_names();
    const auto it = std::find(names.begin(), names.end(), name);
    FUSENAS_CHECK(it != names.end() && name != "identity",
                  "genotype does not fit the ENAS micro space: edge {} of the {} cell uses '{}', "
                  "but the micro space has only sep_conv_3x3, sep_conv_5x5, avg_pool_3x3, "
                  "max_pool_3x3 and skip_connect (identity)",
                  e, which, name);
    return static_cast<MicroOp>(it - names.begin());
  };
  MicroCell cell;
  for (size_t e = 0; e + 1 < edges.size(); e += 2) {
    cell.push_back({edges[e].input, op(e), edges[e + 1].input, op(e + 1)});
  }
  validate_cell(which, cell);
  std::vector<int> sorted = concat;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<int> unused = unused_nodes(cell);
  FUSENAS_CHECK(sorted == unused,
                "genotype does not fit the ENAS micro space: the {} cell concatenates states [{}], "
                "but an ENAS cell concatenates exactly its unused nodes, here [{}]",
                which, fmt::join(concat, ", "), fmt::join(unused, ", "));
  return cell;
}

}  // namespace

const std::vector<std::string>& micro_op_names() {
  static const std::vector<std::string> names = {"sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3",
                                                 "max_pool_3x3", "identity"};
  return names;
}

std::string_view micro_op_name(MicroOp op) {
  FUSENAS_CHECK(valid_op(op), "micro op value {} is outside 0..{}", static_cast<int>(op),
                kNumMicroOps - 1);
  return micro_op_names()[static_cast<size_t>(op)];
}

MicroOp micro_op_from_name(std::string_view name) {
  const auto& names = micro_op_names();
  const auto it = std::find(names.begin(), names.end(), name);
  FUSENAS_CHECK(it != names.end(), "unknown micro op '{}' (known: {})", name,
                fmt::join(names, ", "));
  return static_cast<MicroOp>(it - names.begin());
}

std::vector<int> unused_nodes(const MicroCell& cell) {
  std::vector<bool> used(cell.size(), false);
  for (const MicroNode& n : cell) {
    for (const int input : {n.input_a, n.input_b}) {
      if (input >= 2 && input - 2 < static_cast<int>(cell.size())) used[input - 2] = true;
    }
  }
  std::vector<int> out;
  for (size_t k = 0; k < cell.size(); ++k) {
    if (!used[k]) out.push_back(2 + static_cast<int>(k));
  }
  return out;
}

void MicroArch::validate() const {
  validate_cell("normal", normal);
  validate_cell("reduce", reduce);
  FUSENAS_CHECK(normal.size() == reduce.size(),
                "micro arch: the normal cell has {} nodes but the reduce cell has {}",
                normal.size(), reduce.size());
}

std::string MicroArch::to_json() const {
  const nlohmann::json j = {{"normal", cell_json(normal)}, {"reduce", cell_json(reduce)}};
  return j.dump();
}

MicroArch MicroArch::from_json(const std::string& text) {
  MicroArch arch;
  try {
    const auto j = nlohmann::json::parse(text);
    FUSENAS_CHECK(j.is_object(), "malformed micro arch JSON: expected an object, got {}",
                  j.type_name());
    arch.normal = cell_from_json("normal", j.at("normal"));
    arch.reduce = cell_from_json("reduce", j.at("reduce"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("malformed micro arch JSON: {}", e.what());
  }
  arch.validate();
  return arch;
}

std::string MicroArch::to_text() const {
  return "normal cell:\n" + cell_text(normal) + "reduce cell:\n" + cell_text(reduce);
}

std::string MicroArch::to_enas_string() const {
  return cell_enas(normal) + " | " + cell_enas(reduce);
}

Genotype to_genotype(const MicroArch& arch) {
  arch.validate();
  Genotype g;
  g.normal = cell_edges(arch.normal);
  g.normal_concat = unused_nodes(arch.normal);
  g.reduce = cell_edges(arch.reduce);
  g.reduce_concat = unused_nodes(arch.reduce);
  g.validate();
  return g;
}

MicroArch micro_arch_from_genotype(const Genotype& genotype) {
  genotype.validate();
  MicroArch arch;
  arch.normal = cell_from_genotype("normal", genotype.normal, genotype.normal_concat);
  arch.reduce = cell_from_genotype("reduce", genotype.reduce, genotype.reduce_concat);
  arch.validate();
  return arch;
}

}  // namespace fusenas::nas::enas
