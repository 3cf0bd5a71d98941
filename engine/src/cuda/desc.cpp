// Builds raw-kernel descriptors (scalar type, strided iteration spaces) from engine tensors.
#include "cuda/desc.h"

#include "fusenas/engine/error.h"

namespace fusenas::cuda {

kernels::ScalarType scalar_type(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return kernels::ScalarType::F32;
    case DType::Float64:
      return kernels::ScalarType::F64;
    case DType::Int64:
      return kernels::ScalarType::I64;
    case DType::UInt8:
      return kernels::ScalarType::U8;
    default:
      FUSENAS_FAIL("dtype {} has no CUDA kernels", dtype_name(dtype));
  }
}

template <int K>
kernels::StridedDesc<K> make_desc(const Shape& shape, const std::array<Shape, K>& strides) {
  kernels::StridedDesc<K> d;
  d.numel = numel_of(shape);
  for (size_t dim = 0; dim < shape.size(); ++dim) {
    if (shape[dim] == 1) continue;
    bool merge = d.rank > 0;
    for (int k = 0; k < K && merge; ++k)
      merge = d.strides[k][d.rank - 1] == strides[k][dim] * shape[dim];
    if (merge) {
      d.shape[d.rank - 1] *= shape[dim];
      for (int k = 0; k < K; ++k) d.strides[k][d.rank - 1] = strides[k][dim];
    } else {
      FUSENAS_CHECK(d.rank < kernels::kMaxDims,
                    "tensor of shape {} has too many dims for CUDA kernels", shape_str(shape));
      d.shape[d.rank] = shape[dim];
      for (int k = 0; k < K; ++k) d.strides[k][d.rank] = strides[k][dim];
      d.rank++;
    }
  }
  return d;
}

template kernels::StridedDesc<1> make_desc<1>(const Shape&, const std::array<Shape, 1>&);
template kernels::StridedDesc<2> make_desc<2>(const Shape&, const std::array<Shape, 2>&);
template kernels::StridedDesc<3> make_desc<3>(const Shape&, const std::array<Shape, 3>&);

}  // namespace fusenas::cuda
