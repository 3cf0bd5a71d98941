// Central finite-difference gradient checks in double precision.
#pragma once

#include <functional>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::testing {

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks d/dx of sum(f(inputs) * R), for a fixed random R, against central differences for
// every float64 input that requires grad. Fails the current gtest with the worst element.
void expect_gradients_match(const TensorFn& f, const std::vector<Tensor>& inputs, double eps = 1e-6,
                            double tolerance = 1e-6);

// Random float64 tensor with requires_grad, values uniform in [low, high).
Tensor random_double(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0,
                     bool requires_grad = true);

}  // namespace fusenas::testing
