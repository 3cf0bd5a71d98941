// Shape and stride helpers shared by tensors and ops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fusenas {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);
// Resolves a possibly negative axis against a rank; throws naming `op` when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op);
// NumPy broadcasting of two shapes; throws naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace fusenas
