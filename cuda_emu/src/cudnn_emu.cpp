// Host stand-in for the cuDNN calls FuseNAS makes: handles, 4-D descriptors, algorithm queries
// and the three 2-D convolution directions (math in host_conv.cpp).
#include <cudnn.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "fusenas_emu/stream.h"
#include "host_conv.h"

using fusenas::emu::ConvGeometry;
using fusenas::emu::Scaling;
using fusenas::emu::Strides4;

// The library's opaque types. Descriptors are plain values; a call copies what it needs, so the
// caller may destroy them while the work is still queued or captured.
struct cudnnContext {
  cudaStream_t stream = nullptr;
};

struct cudnnTensorStruct {
  bool initialized = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  std::array<int, 4> dims{};  // n, c, h, w
  Strides4 strides{};
};

struct cudnnFilterStruct {
  bool initialized = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  std::array<int, 4> dims{};  // k, c, r, s
  Strides4 strides{};
};

// Defaults are those of a freshly created cuDNN convolution descriptor.
struct cudnnConvolutionStruct {
  int pad_h = 0, pad_w = 0;
  int stride_h = 1, stride_w = 1;
  int dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CONVOLUTION;
  cudnnDataType_t compute_type = CUDNN_DATA_FLOAT;
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace {

// ---- Descriptor helpers ---------------------------------------------------------------------

// The element types the host math can compute; cuDNN knows more, the emulator does not.
bool computable_type(cudnnDataType_t type) {
  return type == CUDNN_DATA_FLOAT || type == CUDNN_DATA_DOUBLE;
}

bool all_positive(std::initializer_list<int> values) {
  for (const int v : values) {
    if (v <= 0) return false;
  }
  return true;
}

// cuDNN refuses descriptors of 2^31 elements or more.
bool fits_cudnn_limit(const std::array<int, 4>& dims) {
  int64_t count = 1;
  for (const int d : dims) count *= d;
  return count <= std::numeric_limits<int32_t>::max();
}

// Strides of a packed 4-D array whose dims are (outer, channel, h, w) in `format`.
Strides4 packed_strides(cudnnTensorFormat_t format, const std::array<int, 4>& dims) {
  const int64_t c = dims[1], h = dims[2], w = dims[3];
  if (format == CUDNN_TENSOR_NHWC) return {h * w * c, 1, w * c, c};
  return {c * h * w, h * w, w, 1};
}

// Shared checks of the descriptor setters; on success the descriptor's type and dims are set.
template <typename Descriptor>
cudnnStatus_t set_dims(Descriptor* desc, cudnnDataType_t type, int d0, int d1, int d2, int d3) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  if (!all_positive({d0, d1, d2, d3})) return CUDNN_STATUS_BAD_PARAM;
  if (!computable_type(type)) return CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE;
  const std::array<int, 4> dims{d0, d1, d2, d3};
  if (!fits_cudnn_limit(dims)) return CUDNN_STATUS_NOT_SUPPORTED;
  desc->type = type;
  desc->dims = dims;
  return CUDNN_STATUS_SUCCESS;
}

bool packed_format(cudnnTensorFormat_t format) {
  return format == CUDNN_TENSOR_NCHW || format == CUDNN_TENSOR_NHWC;
}

bool valid_compute_type(cudnnDataType_t type) {
  return type == CUDNN_DATA_FLOAT || type == CUDNN_DATA_DOUBLE || type == CUDNN_DATA_HALF ||
         type == CUDNN_DATA_BFLOAT16 || type == CUDNN_DATA_INT32;
}

bool valid_math_type(cudnnMathType_t math) {
  return math == CUDNN_DEFAULT_MATH || math == CUDNN_TENSOR_OP_MATH ||
         math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION || math == CUDNN_FMA_MATH;
}

// ---- Convolution geometry -------------------------------------------------------------------

// Output extent along one axis, or 0 when the dilated filter does not fit the padded input.
int64_t output_extent(int64_t in, int64_t pad, int64_t filter, int64_t dilation, int64_t stride) {
  const int64_t span = dilation * (filter - 1) + 1;
  if (in + 2 * pad < span) return 0;
  return (in + 2 * pad - span) / stride + 1;
}

// Fills everything but the output strides from the input, filter and convolution descriptors.
cudnnStatus_t describe_input_and_filter(const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                                        const cudnnConvolutionStruct* conv, ConvGeometry& g) {
  if (x == nullptr || w == nullptr || conv == nullptr) return CUDNN_STATUS_BAD_PARAM;
  if (!x->initialized || !w->initialized) return CUDNN_STATUS_BAD_PARAM;
  if (x->type != w->type) return CUDNN_STATUS_BAD_PARAM;
  const int groups = conv->groups;
  if (w->dims[0] % groups != 0 || x->dims[1] != w->dims[1] * groups) return CUDNN_STATUS_BAD_PARAM;
  g.n = x->dims[0];
  g.cin = x->dims[1];
  g.h = x->dims[2];
  g.w = x->dims[3];
  g.cout = w->dims[0];
  g.kh = w->dims[2];
  g.kw = w->dims[3];
  g.pad_h = conv->pad_h;
  g.pad_w = conv->pad_w;
  g.stride_h = conv->stride_h;
  g.stride_w = conv->stride_w;
  g.dil_h = conv->dil_h;
  g.dil_w = conv->dil_w;
  g.groups = groups;
  g.flip = conv->mode == CUDNN_CONVOLUTION;
  g.ho = output_extent(g.h, g.pad_h, g.kh, g.dil_h, g.stride_h);
  g.wo = output_extent(g.w, g.pad_w, g.kw, g.dil_w, g.stride_w);
  if (g.ho < 1 || g.wo < 1) return CUDNN_STATUS_BAD_PARAM;
  g.x_strides = x->strides;
  g.w_strides = w->strides;
  return CUDNN_STATUS_SUCCESS;
}

// A complete, consistent convolution: what one call needs, copied out of the descriptors.
struct ConvProblem {
  ConvGeometry geometry;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
};

cudnnStatus_t describe_convolution(const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                                   const cudnnConvolutionStruct* conv, const cudnnTensorStruct* y,
                                   ConvProblem& problem) {
  ConvGeometry& g = problem.geometry;
  if (const cudnnStatus_t s = describe_input_and_filter(x, w, conv, g); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (y == nullptr || !y->initialized || y->type != x->type) return CUDNN_STATUS_BAD_PARAM;
  const std::array<int64_t, 4> expected{g.n, g.cout, g.ho, g.wo};
  for (size_t i = 0; i < expected.size(); ++i) {
    if (y->dims[i] != expected[i]) return CUDNN_STATUS_BAD_PARAM;
  }
  // cuDNN's FLOAT_CONFIG and DOUBLE_CONFIG: float data computes in float, double in double.
  if (conv->compute_type != x->type) return CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE;
  g.y_strides = y->strides;
  problem.type = x->type;
  return CUDNN_STATUS_SUCCESS;
}

// ---- Algorithms and workspaces --------------------------------------------------------------

// Every emulated algorithm computes the same way, but like cuDNN only some are offered: algo 0
// asks for a small workspace, so callers' workspace plumbing is exercised; algo 1 needs none; the
// rest report NOT_SUPPORTED, so callers' filtering of heuristic results is exercised too. Algo 0
// also needs 16-byte aligned data, like cuDNN's vectorised kernels: a tensor view starting at an
// element offset gets BAD_PARAM_MISALIGNED_POINTER from it at launch, and algo 1 serves.
constexpr size_t kAlgoZeroWorkspace = 256;
constexpr uintptr_t kAlgoZeroAlignment = 16;

cudnnStatus_t algorithm_workspace(int algo, int algo_count, size_t& bytes) {
  if (algo < 0 || algo >= algo_count) return CUDNN_STATUS_BAD_PARAM;
  if (algo > 1) return CUDNN_STATUS_NOT_SUPPORTED;
  bytes = algo == 0 ? kAlgoZeroWorkspace : 0;
  return CUDNN_STATUS_SUCCESS;
}

// Heuristic results in preference order: the supported algorithms first, then the others with
// their failure status, as cuDNN lists them.
template <typename Algo, typename Perf>
cudnnStatus_t report_algorithms(const cudnnConvolutionStruct* conv, int algo_count, int requested,
                                int* returned, Perf* results) {
  if (requested < 1 || returned == nullptr || results == nullptr) return CUDNN_STATUS_BAD_PARAM;
  const int count = requested < algo_count ? requested : algo_count;
  for (int algo = 0; algo < count; ++algo) {
    Perf perf{};
    size_t bytes = 0;
    perf.algo = static_cast<Algo>(algo);
    perf.status = algorithm_workspace(algo, algo_count, bytes);
    perf.time = -1.0f;  // heuristics do not time anything
    perf.memory = bytes;
    perf.determinism = CUDNN_DETERMINISTIC;
    perf.mathType = conv->math;
    results[algo] = perf;
  }
  *returned = count;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t report_max_count(cudnnHandle_t handle, int algo_count, int* count) {
  if (handle == nullptr || count == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *count = algo_count;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t query_workspace(cudnnHandle_t handle, const cudnnTensorStruct* x,
                              const cudnnFilterStruct* w, const cudnnConvolutionStruct* conv,
                              const cudnnTensorStruct* y, int algo, int algo_count, size_t* size) {
  if (handle == nullptr || size == nullptr) return CUDNN_STATUS_BAD_PARAM;
  ConvProblem problem;
  if (const cudnnStatus_t s = describe_convolution(x, w, conv, y, problem);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  return algorithm_workspace(algo, algo_count, *size);
}

template <typename Algo, typename Perf>
cudnnStatus_t heuristics(cudnnHandle_t handle, const cudnnTensorStruct* x,
                         const cudnnFilterStruct* w, const cudnnConvolutionStruct* conv,
                         const cudnnTensorStruct* y, int algo_count, int requested, int* returned,
                         Perf* results) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  ConvProblem problem;
  if (const cudnnStatus_t s = describe_convolution(x, w, conv, y, problem);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  return report_algorithms<Algo>(conv, algo_count, requested, returned, results);
}

// ---- Running a convolution ------------------------------------------------------------------

// Everything queued work needs, by value.
struct Launch {
  ConvProblem problem;
  Scaling scaling;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

// alpha and beta point to float for float data and to double for double data.
Scaling read_scaling(cudnnDataType_t type, const void* alpha, const void* beta) {
  if (type == CUDNN_DATA_DOUBLE) {
    return {*static_cast<const double*>(alpha), *static_cast<const double*>(beta)};
  }
  return {*static_cast<const float*>(alpha), *static_cast<const float*>(beta)};
}

// The checks every convolution call makes before any work is queued.
cudnnStatus_t prepare_launch(cudnnHandle_t handle, const cudnnTensorStruct* x,
                             const cudnnFilterStruct* w, const cudnnConvolutionStruct* conv,
                             const cudnnTensorStruct* y, int algo, int algo_count,
                             const void* alpha, const void* beta,
                             std::initializer_list<const void*> data, void* workspace,
                             size_t workspace_bytes, Launch& launch) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = describe_convolution(x, w, conv, y, launch.problem);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (alpha == nullptr || beta == nullptr) return CUDNN_STATUS_BAD_PARAM;
  for (const void* p : data) {
    if (p == nullptr) return CUDNN_STATUS_BAD_PARAM;
    if (algo == 0 && reinterpret_cast<uintptr_t>(p) % kAlgoZeroAlignment != 0) {
      return CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
    }
  }
  size_t needed = 0;
  if (const cudnnStatus_t s = algorithm_workspace(algo, algo_count, needed);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (workspace_bytes < needed || (needed > 0 && workspace == nullptr)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  launch.scaling = read_scaling(launch.problem.type, alpha, beta);
  launch.workspace = workspace;
  launch.workspace_bytes = workspace_bytes;
  return CUDNN_STATUS_SUCCESS;
}

// cuDNN owns the workspace during the call and leaves it undefined: NaN bytes catch a caller
// that reads it afterwards or counts on it being zeroed.
void scribble_workspace(const Launch& launch) {
  if (launch.workspace != nullptr && launch.workspace_bytes > 0) {
    std::memset(launch.workspace, 0xFF, launch.workspace_bytes);
  }
}

// Calls body(T{}) with T the element type of the launch.
template <typename Body>
void for_element_type(cudnnDataType_t type, Body&& body) {
  if (type == CUDNN_DATA_DOUBLE) {
    body(double{});
  } else {
    body(float{});
  }
}

// One convolution direction: checks the call like cuDNN, then queues
// math(geometry, scaling, const T* in0, const T* in1, T* out) on the handle's stream with T the
// descriptors' element type.
template <typename Math>
cudnnStatus_t queue_convolution(cudnnHandle_t handle, const cudnnTensorStruct* x,
                                const cudnnFilterStruct* w, const cudnnConvolutionStruct* conv,
                                const cudnnTensorStruct* y, int algo, int algo_count,
                                const void* alpha, const void* beta, const void* in0,
                                const void* in1, void* out, void* workspace, size_t workspace_bytes,
                                Math math) {
  Launch launch;
  if (const cudnnStatus_t s = prepare_launch(handle, x, w, conv, y, algo, algo_count, alpha, beta,
                                             {in0, in1, out}, workspace, workspace_bytes, launch);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  fusenas::emu::enqueue(handle->stream, [launch, in0, in1, out, math] {
    scribble_workspace(launch);
    for_element_type(launch.problem.type, [&](auto zero) {
      using T = decltype(zero);
      math(launch.problem.geometry, launch.scaling, static_cast<const T*>(in0),
           static_cast<const T*>(in1), static_cast<T*>(out));
    });
  });
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

// ---- Handles and errors ---------------------------------------------------------------------

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *handle = new cudnnContext();
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  handle->stream = streamId;
  return CUDNN_STATUS_SUCCESS;
}

#define FUSENAS_EMU_STATUS_NAME(status) \
  case status:                          \
    return #status;

const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_SUCCESS)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_INITIALIZED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_DEPRECATED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_LICENSE_ERROR)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_RUNTIME_IN_PROGRESS)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_RUNTIME_FP_OVERFLOW)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_NULL_POINTER)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SHAPE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_PADDING)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUBLAS)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CUDART)
    FUSENAS_EMU_STATUS_NAME(CUDNN_STATUS_EXECUTION_FAILED_CURAND)
    default:
      return "CUDNN_STATUS_UNKNOWN";
  }
}

#undef FUSENAS_EMU_STATUS_NAME

// ---- Tensor and filter descriptors ----------------------------------------------------------

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* tensorDesc) {
  if (tensorDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *tensorDesc = new cudnnTensorStruct();
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc) {
  if (tensorDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  delete tensorDesc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t tensorDesc,
                                         cudnnTensorFormat_t format, cudnnDataType_t dataType,
                                         int n, int c, int h, int w) {
  if (!packed_format(format)) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = set_dims(tensorDesc, dataType, n, c, h, w);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  tensorDesc->strides = packed_strides(format, tensorDesc->dims);
  tensorDesc->initialized = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t tensorDesc,
                                           cudnnDataType_t dataType, int n, int c, int h, int w,
                                           int nStride, int cStride, int hStride, int wStride) {
  if (!all_positive({nStride, cStride, hStride, wStride})) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = set_dims(tensorDesc, dataType, n, c, h, w);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  tensorDesc->strides = {nStride, cStride, hStride, wStride};
  tensorDesc->initialized = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* filterDesc) {
  if (filterDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *filterDesc = new cudnnFilterStruct();
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t filterDesc) {
  if (filterDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  delete filterDesc;
  return CUDNN_STATUS_SUCCESS;
}

// NCHW means KCRS storage and NHWC means KRSC: the output channel is always outermost.
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t filterDesc,
                                         cudnnDataType_t dataType, cudnnTensorFormat_t format,
                                         int k, int c, int h, int w) {
  if (!packed_format(format)) return CUDNN_STATUS_BAD_PARAM;
  if (const cudnnStatus_t s = set_dims(filterDesc, dataType, k, c, h, w);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  filterDesc->strides = packed_strides(format, filterDesc->dims);
  filterDesc->initialized = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---- Convolution descriptors ----------------------------------------------------------------

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* convDesc) {
  if (convDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *convDesc = new cudnnConvolutionStruct();
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc) {
  if (convDesc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  delete convDesc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t convDesc, int pad_h,
                                              int pad_w, int u, int v, int dilation_h,
                                              int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  if (convDesc == nullptr || pad_h < 0 || pad_w < 0) return CUDNN_STATUS_BAD_PARAM;
  if (!all_positive({u, v, dilation_h, dilation_w})) return CUDNN_STATUS_BAD_PARAM;
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION) return CUDNN_STATUS_BAD_PARAM;
  if (!valid_compute_type(computeType)) return CUDNN_STATUS_BAD_PARAM;
  convDesc->pad_h = pad_h;
  convDesc->pad_w = pad_w;
  convDesc->stride_h = u;
  convDesc->stride_w = v;
  convDesc->dil_h = dilation_h;
  convDesc->dil_w = dilation_w;
  convDesc->mode = mode;
  convDesc->compute_type = computeType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t convDesc, int groupCount) {
  if (convDesc == nullptr || groupCount < 1) return CUDNN_STATUS_BAD_PARAM;
  convDesc->groups = groupCount;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc,
                                          cudnnMathType_t mathType) {
  if (convDesc == nullptr || !valid_math_type(mathType)) return CUDNN_STATUS_BAD_PARAM;
  convDesc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t convDesc,
                                                    const cudnnTensorDescriptor_t inputTensorDesc,
                                                    const cudnnFilterDescriptor_t filterDesc,
                                                    int* n, int* c, int* h, int* w) {
  if (n == nullptr || c == nullptr || h == nullptr || w == nullptr) return CUDNN_STATUS_BAD_PARAM;
  ConvGeometry g;
  if (const cudnnStatus_t s = describe_input_and_filter(inputTensorDesc, filterDesc, convDesc, g);
      s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  // Huge padding can push an extent past what the int outputs hold.
  if (g.ho > std::numeric_limits<int>::max() || g.wo > std::numeric_limits<int>::max()) {
    return CUDNN_STATUS_NOT_SUPPORTED;
  }
  *n = static_cast<int>(g.n);
  *c = static_cast<int>(g.cout);
  *h = static_cast<int>(g.ho);
  *w = static_cast<int>(g.wo);
  return CUDNN_STATUS_SUCCESS;
}

// ---- Algorithm queries ----------------------------------------------------------------------

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return report_max_count(handle, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, count);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return report_max_count(handle, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, count);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return report_max_count(handle, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, count);
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
    const cudnnFilterDescriptor_t filterDesc, const cudnnConvolutionDescriptor_t convDesc,
    const cudnnTensorDescriptor_t destDesc, const int requestedAlgoCount, int* returnedAlgoCount,
    cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionFwdAlgo_t>(handle, srcDesc, filterDesc, convDesc, destDesc,
                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, requestedAlgoCount,
                                               returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t filterDesc,
    const cudnnTensorDescriptor_t diffDesc, const cudnnConvolutionDescriptor_t convDesc,
    const cudnnTensorDescriptor_t gradDesc, const int requestedAlgoCount, int* returnedAlgoCount,
    cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdDataAlgo_t>(
      handle, gradDesc, filterDesc, convDesc, diffDesc, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
      requestedAlgoCount, returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
    const cudnnTensorDescriptor_t diffDesc, const cudnnConvolutionDescriptor_t convDesc,
    const cudnnFilterDescriptor_t gradDesc, const int requestedAlgoCount, int* returnedAlgoCount,
    cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  return heuristics<cudnnConvolutionBwdFilterAlgo_t>(
      handle, srcDesc, gradDesc, convDesc, diffDesc, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
      requestedAlgoCount, returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnFilterDescriptor_t wDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t yDesc,
    cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) {
  return query_workspace(handle, xDesc, wDesc, convDesc, yDesc, algo,
                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, sizeInBytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc,
    cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return query_workspace(handle, dxDesc, wDesc, convDesc, dyDesc, algo,
                         CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, sizeInBytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnTensorDescriptor_t dyDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t gradDesc,
    cudnnConvolutionBwdFilterAlgo_t algo, size_t* sizeInBytes) {
  return query_workspace(handle, xDesc, gradDesc, convDesc, dyDesc, algo,
                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, sizeInBytes);
}

// ---- Convolutions ---------------------------------------------------------------------------

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha,
                                      const cudnnTensorDescriptor_t xDesc, const void* x,
                                      const cudnnFilterDescriptor_t wDesc, const void* w,
                                      const cudnnConvolutionDescriptor_t convDesc,
                                      cudnnConvolutionFwdAlgo_t algo, void* workSpace,
                                      size_t workSpaceSizeInBytes, const void* beta,
                                      const cudnnTensorDescriptor_t yDesc, void* y) {
  return queue_convolution(handle, xDesc, wDesc, convDesc, yDesc, algo,
                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, alpha, beta, x, w, y, workSpace,
                           workSpaceSizeInBytes,
                           [](const auto&... a) { fusenas::emu::conv_forward(a...); });
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                           const cudnnFilterDescriptor_t wDesc, const void* w,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                           size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) {
  return queue_convolution(handle, dxDesc, wDesc, convDesc, dyDesc, algo,
                           CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, alpha, beta, w, dy, dx, workSpace,
                           workSpaceSizeInBytes,
                           [](const auto&... a) { fusenas::emu::conv_backward_data(a...); });
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void* x,
                                             const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwDesc, void* dw) {
  return queue_convolution(handle, xDesc, dwDesc, convDesc, dyDesc, algo,
                           CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, alpha, beta, x, dy, dw,
                           workSpace, workSpaceSizeInBytes,
                           [](const auto&... a) { fusenas::emu::conv_backward_filter(a...); });
}

}  // extern "C"
