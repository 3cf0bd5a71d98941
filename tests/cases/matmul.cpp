// matmul (plain and batched) and linear (with and without a bias, over leading batch dims).
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

OpCase product(const std::string& op, const std::string& name, std::vector<Input> inputs,
               unsigned checks) {
  OpCase c;
  c.op = op;
  c.name = name;
  c.inputs = std::move(inputs);
  if (op == "matmul") {
    c.run = [](const std::vector<Tensor>& v) { return std::vector{matmul(v[0], v[1])}; };
  } else {
    c.run = [](const std::vector<Tensor>& v) {
      return std::vector{linear(v[0], v[1], v.size() > 2 ? v[2] : Tensor())};
    };
  }
  c.checks = checks;
  return c;
}

}  // namespace

std::vector<OpCase> matmul_cases() {
  return {
      product("matmul", "[3, 4] x [4, 5]", {Input{{3, 4}}, Input{{4, 5}}}, kGradcheck),
      product("matmul", "batched [2, 3, 4] x [2, 4, 2]", {Input{{2, 3, 4}}, Input{{2, 4, 2}}},
              kGradcheck),
      product("matmul", "[37, 50] x [50, 23]", {Input{{37, 50}}, Input{{50, 23}}}, kParity | kGpu),
      product("matmul", "batched [3, 17, 20] x [3, 20, 9]", {Input{{3, 17, 20}}, Input{{3, 20, 9}}},
              kParity | kGpu)};
}

std::vector<OpCase> linear_cases() {
  return {product("linear", "[2, 3, 4] by [5, 4]", {Input{{2, 3, 4}}, Input{{5, 4}}, Input{{5}}},
                  kGradcheck),
          product("linear", "[2, 3, 4] by [5, 4] no bias", {Input{{2, 3, 4}}, Input{{5, 4}}},
                  kGradcheck),
          product("linear", "[8, 5, 64] by [10, 64]",
                  {Input{{8, 5, 64}}, Input{{10, 64}}, Input{{10}}}, kParity | kGpu)};
}

}  // namespace fusenas::cases
