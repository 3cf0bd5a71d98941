// Every op case table's gradient-check cases (tests/cases/<op>.cpp): the op's gradients against
// central finite differences in float64 on the CPU, one gtest per op.
#include <gtest/gtest.h>

#include "cases/op_case.h"
#include "support/gradcheck.h"

namespace fusenas {
namespace {

class OpGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(OpGradients, MatchFiniteDifferences) {
  for (const cases::OpCase& c : cases::cases_of(GetParam())) {
    if (!(c.checks & cases::kGradcheck)) continue;
    SCOPED_TRACE(c.label());
    std::vector<Tensor> inputs = c.make_inputs(DType::Float64);
    const std::vector<bool> grad = c.grad_inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (grad[i]) inputs[i].set_requires_grad(true);
    }
    testing::expect_gradients_match([run = c.run](const auto& v) { return run(v)[0]; }, inputs,
                                    1e-6, c.gradcheck_tolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OpGradients,
                         ::testing::ValuesIn(cases::op_names_with(cases::kGradcheck)),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fusenas
