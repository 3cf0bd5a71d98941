// CUDA launchers for copies, fills and in-place scaled adds (same contract as ops/cpu/copy.h).
#pragma once

#include "fusenas/engine/tensor.h"

namespace fusenas::cuda {

void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
void axpy(const Tensor& dst, const Tensor& src, double alpha);
void scale_inplace(const Tensor& dst, double factor);
// Copies a contiguous tensor between host and device (either direction) or device to device.
void transfer(const Tensor& src, const Tensor& dst);

}  // namespace fusenas::cuda
