// The CUDA-versus-CPU comparison shared by the gpu tests and bench: the same inputs on both
// devices, NaN-poisoned CUDA allocations (an element the kernels never write shows up), the first
// output differentiated with the same random gradient, and every output and input gradient
// compared by max relative error.
#pragma once

#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"
#include "op_case.h"

namespace fusenas::cases {

struct Difference {
  std::string what;  // "output 0", "gradient of input 1"
  double error = 0;  // max relative error; infinite on NaN or a shape mismatch
  std::string note;  // why it is infinite, when it is
};

// Runs `run` on CPU copies of `inputs` and on CUDA copies. With `backward`, the first output is
// differentiated with respect to the inputs `grad_inputs` flags (empty = every floating input).
std::vector<Difference> compare_cuda_with_cpu(const std::vector<Tensor>& inputs, const OpFn& run,
                                              std::vector<bool> grad_inputs = {},
                                              bool backward = true);

// The worst error of a comparison.
double worst_error(const std::vector<Difference>& differences);

// max |actual - expected| / max(max |expected|, floor), infinite on NaN.
double max_relative_error(const Tensor& actual, const Tensor& expected, double floor = 1e-6);

}  // namespace fusenas::cases
