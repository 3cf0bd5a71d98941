// Every op case table's parity cases (tests/cases/<op>.cpp) against PyTorch 1.13 (CPU, through
// tests/support/torch_oracle.py), forward and backward, one gtest (one Python run) per op.
#include <gtest/gtest.h>

#include "cases/op_case.h"
#include "support/parity.h"

namespace fusenas {
namespace {

class OpParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OpParity, MatchesPyTorch) {
  testing::ParityBatch batch;
  for (const cases::OpCase& c : cases::cases_of(GetParam())) {
    if (!(c.checks & cases::kParity)) continue;
    batch.add(c.label(), c.op, c.params, c.make_inputs(DType::Float32), testing::MultiFn(c.run),
              {c.tolerance, c.grad_inputs()});
  }
  batch.check();
}

INSTANTIATE_TEST_SUITE_P(Ops, OpParity, ::testing::ValuesIn(cases::op_names_with(cases::kParity)),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fusenas
