// Tensor factories: constants, seeded random tensors, and tensors built from host data.
#pragma once

#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"

namespace fusenas {

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor empty_like(const Tensor& t);

Tensor uniform(const Shape& shape, double low, double high, Generator& gen,
               TensorOptions options = {});
Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen,
              TensorOptions options = {});
Tensor randint(const Shape& shape, int64_t low, int64_t high, Generator& gen,
               TensorOptions options = TensorOptions{}.with_dtype(DType::Int64));

// Copies host values into a new tensor (converted to options.dtype).
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options = {});
// Wraps caller-owned CPU memory without copying; the caller keeps it alive.
Tensor from_blob(void* data, const Shape& shape, DType dtype);
Tensor scalar_tensor(double value, TensorOptions options = {});

}  // namespace fusenas
