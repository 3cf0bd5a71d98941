// Names of the candidate operations of the DARTS cell space, and the extra ops of published cells.
#include "fusenas/nas/primitives.h"

#include <algorithm>

namespace fusenas::nas {

const std::vector<std::string>& darts_primitives() {
  static const std::vector<std::string> ops = {"none",         "max_pool_3x3", "avg_pool_3x3",
                                               "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                                               "dil_conv_3x3", "dil_conv_5x5"};
  return ops;
}

const std::vector<std::string>& known_ops() {
  static const std::vector<std::string> ops = [] {
    auto v = darts_primitives();
    v.push_back("sep_conv_7x7");
    v.push_back("conv_7x1_1x7");
    v.push_back("conv_3x3");
    v.push_back("conv_5x5");
    return v;
  }();
  return ops;
}

bool is_known_op(const std::string& name) {
  const auto& ops = known_ops();
  return std::find(ops.begin(), ops.end(), name) != ops.end();
}

}  // namespace fusenas::nas
