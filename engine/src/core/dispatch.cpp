// Argument checks shared by ops.
#include "core/dispatch.h"

namespace fusenas {

std::string shapes_str(const std::vector<Tensor>& ts) {
  std::string s;
  for (const auto& t : ts) {
    if (!s.empty()) s += ", ";
    s += t.defined() ? shape_str(t.shape()) : std::string("undefined");
  }
  return s;
}

void check_defined(const char* op, const Tensor& t, const char* what) {
  FUSENAS_CHECK(t.defined(), "{}: {} is an undefined tensor", op, what);
}

void check_same_device_dtype(const char* op, const std::vector<Tensor>& ts) {
  const Tensor* first = nullptr;
  for (const auto& t : ts) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    FUSENAS_CHECK(t.device() == first->device(),
                  "{}: inputs are on different devices ({} and {}); shapes {}", op,
                  first->device().str(), t.device().str(), shapes_str(ts));
    FUSENAS_CHECK(t.dtype() == first->dtype(),
                  "{}: inputs have different dtypes ({} and {}); shapes {}", op,
                  dtype_name(first->dtype()), dtype_name(t.dtype()), shapes_str(ts));
  }
}

void check_floating(const char* op, const Tensor& t) {
  FUSENAS_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64,
                "{}: expected a float32 or float64 tensor, got {} of shape {}", op,
                dtype_name(t.dtype()), shape_str(t.shape()));
}

void check_rank(const char* op, const Tensor& t, int64_t rank, const char* what) {
  FUSENAS_CHECK(t.dim() == rank, "{}: {} must have rank {}, got shape {}", op, what, rank,
                shape_str(t.shape()));
}

}  // namespace fusenas
