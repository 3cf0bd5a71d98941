// Raw elementwise kernels: strided copy/convert, fill, axpy, scaling, unary and binary maps.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Same numbering as the engine's UnaryKind / BinaryKind.
enum class UnaryOp { Relu, Sigmoid, Tanh, Exp, Log, Neg, Square, Scale, AddScalar, Sqrt, ClampMax };
enum class BinaryOp { Add, Sub, Mul, Div };

// dst[off0] = convert(src[off1]) over the descriptor's iteration space.
cudaError_t strided_copy(const StridedDesc<2>& desc, ScalarType dst_type, void* dst,
                         ScalarType src_type, const void* src, cudaStream_t stream);
cudaError_t fill(const StridedDesc<1>& desc, ScalarType type, void* dst, double value,
                 cudaStream_t stream);
// dst[off0] += alpha * src[off1]   (float or double)
cudaError_t axpy(const StridedDesc<2>& desc, ScalarType type, void* dst, const void* src,
                 double alpha, cudaStream_t stream);
cudaError_t scale_inplace(const StridedDesc<1>& desc, ScalarType type, void* dst, double factor,
                          cudaStream_t stream);

// Contiguous maps of n elements.
cudaError_t unary_forward(UnaryOp op, ScalarType type, int64_t n, const void* x, void* y,
                          double param, cudaStream_t stream);
cudaError_t unary_backward(UnaryOp op, ScalarType type, int64_t n, const void* gy,
                           const void* saved, void* gx, double param, cudaStream_t stream);

// out[off0] = a[off1] (op) b[off2] with broadcast strides (0 on broadcast dims).
cudaError_t binary(BinaryOp op, ScalarType type, const StridedDesc<3>& desc, void* out,
                   const void* a, const void* b, cudaStream_t stream);

}  // namespace fusenas::kernels
