// Internal helpers every op uses: dtype dispatch, argument checks and the CUDA-or-fail switch.
#pragma once

#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/engine/tensor.h"

namespace fusenas {

// Calls fn.template operator()<T>() with T = float or double according to `dtype`.
template <typename F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& fn) {
  switch (dtype) {
    case DType::Float32:
      return fn.template operator()<float>();
    case DType::Float64:
      return fn.template operator()<double>();
    default:
      FUSENAS_FAIL("{}: dtype {} is not supported (needs float32 or float64)", op,
                   dtype_name(dtype));
  }
}

// Like dispatch_floating, plus int64 and uint8.
template <typename F>
decltype(auto) dispatch_all(DType dtype, const char* op, F&& fn) {
  switch (dtype) {
    case DType::Float32:
      return fn.template operator()<float>();
    case DType::Float64:
      return fn.template operator()<double>();
    case DType::Int64:
      return fn.template operator()<int64_t>();
    case DType::UInt8:
      return fn.template operator()<uint8_t>();
    default:
      FUSENAS_FAIL("{}: dtype {} is not supported", op, dtype_name(dtype));
  }
}

void check_defined(const char* op, const Tensor& t, const char* what);
// All defined tensors on one device and of one dtype; names the op and every shape on failure.
void check_same_device_dtype(const char* op, const std::vector<Tensor>& ts);
void check_floating(const char* op, const Tensor& t);
void check_rank(const char* op, const Tensor& t, int64_t rank, const char* what);
std::string shapes_str(const std::vector<Tensor>& ts);

}  // namespace fusenas

#ifdef FUSENAS_WITH_CUDA
#define FUSENAS_ON_CUDA(call) call
#else
#define FUSENAS_ON_CUDA(call) FUSENAS_FAIL("this build of FuseNAS has no CUDA backend")
#endif
