// CPU kernels for copies, fills and in-place scaled adds over strided tensors.
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// dst = src elementwise (same shape; any strides; converts between dtypes).
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
// dst += alpha * src, src broadcast to dst's shape.
void axpy(const Tensor& dst, const Tensor& src, double alpha);
void scale_inplace(const Tensor& dst, double factor);

}  // namespace fusenas::cpu
