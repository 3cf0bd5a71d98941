// Small definitions behind error.h, dtype.h, device.h and shape.h.
#include <algorithm>

#include "fusenas/engine/device.h"
#include "fusenas/engine/dtype.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/shape.h"

namespace fusenas {

namespace detail {
void throw_error(const char* file, int line, const std::string& message) {
  std::string_view path(file);
  if (auto pos = path.rfind("/src/"); pos != std::string_view::npos) path.remove_prefix(pos + 1);
  throw Error(fmt::format("{} [{}:{}]", message, path, line));
}
}  // namespace detail

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
    case DType::Int64:
      return 8;
    case DType::UInt8:
      return 1;
    case DType::BFloat16:
      return 2;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::Int64:
      return "int64";
    case DType::UInt8:
      return "uint8";
    case DType::BFloat16:
      return "bfloat16";
  }
  return "?";
}

bool is_floating(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float64 || dtype == DType::BFloat16;
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string rest = text.substr(5);
    FUSENAS_CHECK(!rest.empty() && std::all_of(rest.begin(), rest.end(), ::isdigit),
                  "bad device '{}': expected cpu, cuda or cuda:N", text);
    return cuda(std::stoi(rest));
  }
  FUSENAS_FAIL("bad device '{}': expected cpu, cuda or cuda:N", text);
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  FUSENAS_CHECK(a >= 0 && a < rank, "{}: axis {} out of range for a tensor of rank {}", op, axis,
                rank);
  return a;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    FUSENAS_CHECK(da == db || da == 1 || db == 1, "{}: shapes {} and {} cannot be broadcast", op,
                  shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace fusenas
