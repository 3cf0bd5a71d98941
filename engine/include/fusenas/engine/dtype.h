// Element types a tensor can hold, and compile-time mapping between C++ types and DType.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fusenas {

// BFloat16 is reserved so mixed precision can be added without changing the tensor layout.
enum class DType : uint8_t { Float32, Float64, Int64, UInt8, BFloat16 };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
bool is_floating(DType dtype);

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::Float64;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::UInt8;
};

template <typename T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

}  // namespace fusenas
