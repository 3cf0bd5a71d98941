// The gpu tests' CUDA-versus-CPU expectation, on the comparison bench uses too
// (tests/cases/compare.h): same inputs on both devices, poisoned allocations, outputs and input
// gradients compared by max relative error.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cases/compare.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/tensor.h"

// Skips the current test when no CUDA device is visible.
#define FUSENAS_REQUIRE_GPU()                                           \
  do {                                                                  \
    if (!::fusenas::cuda_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

namespace fusenas::testing {

using OpFn = cases::OpFn;

// Runs `f` on CPU `inputs` and on CUDA copies, differentiates the first output with the same
// random gradient, and expects every output and input gradient within `tolerance`.
// `grad_inputs` flags which inputs get requires_grad (empty = every floating input).
void expect_cuda_matches_cpu(const std::string& label, const std::vector<Tensor>& inputs,
                             const OpFn& f, double tolerance = 1e-5,
                             std::vector<bool> grad_inputs = {});

}  // namespace fusenas::testing
