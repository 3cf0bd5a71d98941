// Raw elementwise kernels: strided copy/convert, fill, axpy, scaling, unary and binary maps.
#include "fusenas/kernels/elementwise.h"

namespace fusenas::kernels {
namespace {

constexpr int kBlock = 256;

template <typename D, typename S>
__global__ void copy_kernel(StridedDesc<2> d, D* dst, const S* src) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    strided_offsets(d, i, off);
    dst[off[0]] = static_cast<D>(src[off[1]]);
  }
}

template <typename T>
__global__ void fill_kernel(StridedDesc<1> d, T* dst, T value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    strided_offsets(d, i, off);
    dst[off[0]] = value;
  }
}

template <typename T>
__global__ void axpy_kernel(StridedDesc<2> d, T* dst, const T* src, T alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    strided_offsets(d, i, off);
    dst[off[0]] += alpha * src[off[1]];
  }
}

template <typename T>
__global__ void scale_kernel(StridedDesc<1> d, T* dst, T factor) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    strided_offsets(d, i, off);
    dst[off[0]] *= factor;
  }
}

template <typename T>
__device__ __forceinline__ T unary_apply(UnaryOp op, T v, T p) {
  switch (op) {
    case UnaryOp::Relu:
      return v > T(0) ? v : T(0);
    case UnaryOp::Sigmoid:
      return T(1) / (T(1) + exp(-v));
    case UnaryOp::Tanh:
      return tanh(v);
    case UnaryOp::Exp:
      return exp(v);
    case UnaryOp::Log:
      return log(v);
    case UnaryOp::Neg:
      return -v;
    case UnaryOp::Square:
      return v * v;
    case UnaryOp::Scale:
      return v * p;
    case UnaryOp::AddScalar:
      return v + p;
    case UnaryOp::Sqrt:
      return sqrt(v);
    case UnaryOp::ClampMax:
      return v > p ? p : v;
  }
  return v;
}

template <typename T>
__device__ __forceinline__ T unary_grad(UnaryOp op, T g, T s, T p) {
  switch (op) {
    case UnaryOp::Relu:
      return s > T(0) ? g : T(0);
    case UnaryOp::Sigmoid:
      return g * s * (T(1) - s);
    case UnaryOp::Tanh:
      return g * (T(1) - s * s);
    case UnaryOp::Exp:
      return g * s;
    case UnaryOp::Log:
      return g / s;
    case UnaryOp::Square:
      return T(2) * g * s;
    case UnaryOp::Neg:
      return -g;
    case UnaryOp::Scale:
      return g * p;
    case UnaryOp::AddScalar:
      return g;
    case UnaryOp::Sqrt:
      return g / (T(2) * s);
    case UnaryOp::ClampMax:
      return s > p ? T(0) : g;
  }
  return g;
}

template <typename T>
__global__ void unary_forward_kernel(UnaryOp op, int64_t n, const T* x, T* y, T p) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    y[i] = unary_apply(op, x[i], p);
  }
}

template <typename T>
__global__ void unary_backward_kernel(UnaryOp op, int64_t n, const T* gy, const T* saved, T* gx,
                                      T p) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    gx[i] = unary_grad(op, gy[i], saved ? saved[i] : T(0), p);
  }
}

template <typename T>
__global__ void binary_kernel(BinaryOp op, StridedDesc<3> d, T* out, const T* a, const T* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    strided_offsets(d, i, off);
    const T x = a[off[1]], y = b[off[2]];
    T r;
    switch (op) {
      case BinaryOp::Add:
        r = x + y;
        break;
      case BinaryOp::Sub:
        r = x - y;
        break;
      case BinaryOp::Mul:
        r = x * y;
        break;
      default:
        r = x / y;
        break;
    }
    out[off[0]] = r;
  }
}

// Calls fn.template operator()<T>() for the C++ type behind `type`.
template <typename F>
cudaError_t with_type(ScalarType type, F&& fn) {
  switch (type) {
    case ScalarType::F32:
      return fn.template operator()<float>();
    case ScalarType::F64:
      return fn.template operator()<double>();
    case ScalarType::I64:
      return fn.template operator()<int64_t>();
    case ScalarType::U8:
      return fn.template operator()<uint8_t>();
  }
  return cudaErrorInvalidValue;
}

template <typename F>
cudaError_t with_float_type(ScalarType type, F&& fn) {
  if (type == ScalarType::F32) return fn.template operator()<float>();
  if (type == ScalarType::F64) return fn.template operator()<double>();
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t strided_copy(const StridedDesc<2>& desc, ScalarType dst_type, void* dst,
                         ScalarType src_type, const void* src, cudaStream_t stream) {
  if (desc.numel == 0) return cudaSuccess;
  return with_type(dst_type, [&]<typename D>() {
    return with_type(src_type, [&]<typename S>() {
      copy_kernel<<<grid_for(desc.numel), kBlock, 0, stream>>>(desc, static_cast<D*>(dst),
                                                               static_cast<const S*>(src));
      return cudaGetLastError();
    });
  });
}

cudaError_t fill(const StridedDesc<1>& desc, ScalarType type, void* dst, double value,
                 cudaStream_t stream) {
  if (desc.numel == 0) return cudaSuccess;
  return with_type(type, [&]<typename T>() {
    fill_kernel<<<grid_for(desc.numel), kBlock, 0, stream>>>(desc, static_cast<T*>(dst),
                                                             static_cast<T>(value));
    return cudaGetLastError();
  });
}

cudaError_t axpy(const StridedDesc<2>& desc, ScalarType type, void* dst, const void* src,
                 double alpha, cudaStream_t stream) {
  if (desc.numel == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    axpy_kernel<<<grid_for(desc.numel), kBlock, 0, stream>>>(
        desc, static_cast<T*>(dst), static_cast<const T*>(src), static_cast<T>(alpha));
    return cudaGetLastError();
  });
}

cudaError_t scale_inplace(const StridedDesc<1>& desc, ScalarType type, void* dst, double factor,
                          cudaStream_t stream) {
  if (desc.numel == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    scale_kernel<<<grid_for(desc.numel), kBlock, 0, stream>>>(desc, static_cast<T*>(dst),
                                                              static_cast<T>(factor));
    return cudaGetLastError();
  });
}

cudaError_t unary_forward(UnaryOp op, ScalarType type, int64_t n, const void* x, void* y,
                          double param, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    unary_forward_kernel<<<grid_for(n), kBlock, 0, stream>>>(
        op, n, static_cast<const T*>(x), static_cast<T*>(y), static_cast<T>(param));
    return cudaGetLastError();
  });
}

cudaError_t unary_backward(UnaryOp op, ScalarType type, int64_t n, const void* gy,
                           const void* saved, void* gx, double param, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    unary_backward_kernel<<<grid_for(n), kBlock, 0, stream>>>(
        op, n, static_cast<const T*>(gy), static_cast<const T*>(saved), static_cast<T*>(gx),
        static_cast<T>(param));
    return cudaGetLastError();
  });
}

cudaError_t binary(BinaryOp op, ScalarType type, const StridedDesc<3>& desc, void* out,
                   const void* a, const void* b, cudaStream_t stream) {
  if (desc.numel == 0) return cudaSuccess;
  return with_float_type(type, [&]<typename T>() {
    binary_kernel<<<grid_for(desc.numel), kBlock, 0, stream>>>(
        op, desc, static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
