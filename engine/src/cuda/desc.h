// Builds raw-kernel descriptors (scalar type, strided iteration spaces) from engine tensors.
#pragma once

#include <array>

#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/launch.h"

namespace fusenas::cuda {

kernels::ScalarType scalar_type(DType dtype);

// Iteration space of `shape` with K operand stride sets, size-1 dims dropped and contiguous
// neighbours merged so most launches index with one dimension.
template <int K>
kernels::StridedDesc<K> make_desc(const Shape& shape, const std::array<Shape, K>& strides);

}  // namespace fusenas::cuda
