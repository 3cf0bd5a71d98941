// Names of the candidate operations of the DARTS cell space, and the extra ops of published cells.
#pragma once

#include <string>
#include <vector>

namespace fusenas::nas {

// The 8 DARTS search candidates, in the paper's order (index 0 is `none`).
const std::vector<std::string>& darts_primitives();
// Every op name a genotype may use: the DARTS candidates plus sep_conv_7x7 and conv_7x1_1x7, and
// the ENAS macro space's conv_3x3 and conv_5x5 (ReLU-conv-BN).
const std::vector<std::string>& known_ops();
bool is_known_op(const std::string& name);

}  // namespace fusenas::nas
