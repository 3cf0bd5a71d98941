// zero_op (DARTS' "none") cases at strides 1 and 2: an all-zero output of the strided shape whose
// gradient is zero.
#include <fmt/format.h>

#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {

std::vector<OpCase> zero_op_cases() {
  std::vector<OpCase> cases;
  for (const int64_t stride : {1, 2}) {
    for (const auto& [shape, checks] : std::vector<std::pair<Shape, unsigned>>{
             {{2, 5, 4, 3}, kGradcheck | kGpu}, {{2, 7, 6, 3}, kParity}}) {
      OpCase c;
      c.op = "zero_op";
      c.name = fmt::format("{} stride {}", shape_str(shape), stride);
      c.inputs = {Input{shape}};
      c.run = [stride](const std::vector<Tensor>& v) { return std::vector{zero_op(v[0], stride)}; };
      c.params = {{"stride", stride}};
      c.checks = checks;
      cases.push_back(c);
    }
  }
  return cases;
}

}  // namespace fusenas::cases
