// Runs ops in PyTorch (Debian's python3-torch, CPU) on tensors we hand it, for parity tests.
// Tensors travel through safetensors files; support/torch_oracle.py holds the PyTorch side.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cases/compare.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::testing {

struct OracleCase {
  std::string op;  // a key of OPS in torch_oracle.py
  nlohmann::json params = nlohmann::json::object();
  std::vector<Tensor> inputs;        // float inputs get requires_grad in torch
  std::vector<Tensor> grad_outputs;  // one per differentiable output; empty = forward only
  std::vector<bool> grad_inputs;     // which inputs torch differentiates; empty = all float ones
};

struct OracleResult {
  std::vector<Tensor> outputs;      // float32/64 or int64 as torch produced them
  std::vector<Tensor> input_grads;  // one per input; undefined where torch had none
};

// Runs all cases in one Python process. Throws fusenas::Error if Python fails.
std::vector<OracleResult> run_torch(const std::vector<OracleCase>& cases);

// max|a - b| / max(max|b|, floor): the relative error every comparison uses.
using cases::max_relative_error;

}  // namespace fusenas::testing

// EXPECT that two tensors have equal shapes and relative error <= tol, printing both on failure.
#define EXPECT_TENSOR_NEAR(actual, expected, tol)                                      \
  do {                                                                                 \
    const ::fusenas::Tensor& fx_a = (actual);                                          \
    const ::fusenas::Tensor& fx_e = (expected);                                        \
    ASSERT_TRUE(fx_a.defined()) << #actual " is undefined";                            \
    ASSERT_TRUE(fx_e.defined()) << #expected " is undefined";                          \
    ASSERT_EQ(::fusenas::shape_str(fx_a.shape()), ::fusenas::shape_str(fx_e.shape())); \
    EXPECT_LE(::fusenas::testing::max_relative_error(fx_a, fx_e), (tol))               \
        << #actual " vs " #expected;                                                   \
  } while (0)
