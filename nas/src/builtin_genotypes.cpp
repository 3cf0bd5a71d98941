// Published cells, in DARTS notation, as reported by their papers (facts, re-typed here).
#include <algorithm>
#include <cctype>
#include <map>

#include "fusenas/engine/error.h"
#include "fusenas/nas/genotype.h"

namespace fusenas::nas {
namespace {

const std::map<std::string, std::string>& table() {
  static const std::map<std::string, std::string> cells = {
      {"DARTS_V1",
       "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
       "('sep_conv_3x3', 1), "
       "('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], "
       "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), "
       "('skip_connect', 2), "
       "('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
       "('avg_pool_3x3', 0)], "
       "reduce_concat=[2, 3, 4, 5])"},
      {"DARTS_V2",
       "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
       "('sep_conv_3x3', 1), "
       "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
       "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), "
       "('skip_connect', 2), "
       "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
       "('max_pool_3x3', 1)], "
       "reduce_concat=[2, 3, 4, 5])"},
      {"NASNET",
       "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), "
       "('sep_conv_3x3', 0), "
       "('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), ('avg_pool_3x3', 0), "
       "('sep_conv_3x3', 1), "
       "('skip_connect', 1)], normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 1), "
       "('sep_conv_7x7', 0), "
       "('max_pool_3x3', 1), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 0), "
       "('skip_connect', 3), "
       "('avg_pool_3x3', 2), ('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])"},
      {"AMOEBANET",
       "Genotype(normal=[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), "
       "('sep_conv_5x5', 2), "
       "('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), ('skip_connect', 1), "
       "('skip_connect', 0), "
       "('avg_pool_3x3', 1)], normal_concat=[4, 5, 6], reduce=[('avg_pool_3x3', 0), "
       "('sep_conv_3x3', 1), "
       "('max_pool_3x3', 0), ('sep_conv_7x7', 2), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), "
       "('max_pool_3x3', 0), "
       "('max_pool_3x3', 1), ('conv_7x1_1x7', 0), ('sep_conv_3x3', 5)], reduce_concat=[3, 4, 6])"},
      {"ENAS",
       "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 1), ('sep_conv_5x5', 1), "
       "('skip_connect', 0), "
       "('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('avg_pool_3x3', 0), "
       "('sep_conv_5x5', 1), "
       "('avg_pool_3x3', 0)], normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 0), "
       "('avg_pool_3x3', 1), "
       "('sep_conv_3x3', 1), ('avg_pool_3x3', 1), ('avg_pool_3x3', 1), ('sep_conv_3x3', 1), "
       "('sep_conv_5x5', 4), "
       "('avg_pool_3x3', 1), ('sep_conv_3x3', 5), ('sep_conv_5x5', 0)], reduce_concat=[2, 3, 6])"},
      {"PC_DARTS",
       "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), "
       "('dil_conv_3x3', 1), "
       "('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], "
       "normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), "
       "('sep_conv_5x5', 1), "
       "('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), "
       "('sep_conv_3x3', 2)], "
       "reduce_concat=[2, 3, 4, 5])"},
  };
  return cells;
}

std::string canonical(std::string name) {
  for (char& c : name)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name == "NASNET_A") return "NASNET";
  if (name == "AMOEBANET_A") return "AMOEBANET";
  if (name == "PCDARTS") return "PC_DARTS";
  return name;
}

}  // namespace

Genotype builtin_genotype(const std::string& name) {
  const auto it = table().find(canonical(name));
  FUSENAS_CHECK(it != table().end(), "unknown architecture '{}' (built-in: {})", name,
                fmt::join(builtin_genotype_names(), ", "));
  return Genotype::parse_text(it->second);
}

std::vector<std::string> builtin_genotype_names() {
  return {"DARTS_V1", "DARTS_V2", "NASNet", "AmoebaNet", "ENAS", "PC_DARTS"};
}

}  // namespace fusenas::nas
