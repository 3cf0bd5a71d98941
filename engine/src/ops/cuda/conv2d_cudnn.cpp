// cuDNN convolutions for float32 dense and grouped conv2d. Algorithms come from cuDNN's
// heuristics (cudnnGet*_v7: no device work, so safe during graph capture) once per shape and
// direction, filtered (FMA math unless TF32 is allowed; deterministic ones first) and cached in
// order; a candidate that cannot run the shape is dropped and the next one tried, and one that
// refuses this call's pointers (misaligned: a view that starts at an element offset) is skipped for
// this call only. Workspaces are engine tensors, so the caching allocator and graph capture see
// them.
#include "ops/cuda/conv2d_cudnn.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "fusenas/engine/cuda.h"

namespace fusenas::cuda {
namespace {

enum class Direction { Forward, BackwardData, BackwardFilter };

// Everything an algorithm choice depends on.
struct AlgoKey {
  int device;
  Direction direction;
  bool tf32;
  int64_t n, h, w, cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  auto operator<=>(const AlgoKey&) const = default;
};

struct Candidate {
  int algo;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t
  cudnnMathType_t math;
  size_t workspace;
};

// Candidates in order of preference; empty when cuDNN has none for the key.
std::map<AlgoKey, std::vector<Candidate>>& algo_cache() {
  static auto* cache = new std::map<AlgoKey, std::vector<Candidate>>();
  return *cache;
}
std::mutex g_cache_mutex;

// "This algorithm cannot run this shape": cuDNN 9 reports it with sub-codes of
// CUDNN_STATUS_NOT_SUPPORTED (3000-3999, e.g. _SHAPE, _LAYOUT), or plain BAD_PARAM.
bool not_supported(cudnnStatus_t status) {
  const int code = static_cast<int>(status);
  return status == CUDNN_STATUS_BAD_PARAM ||
         (code >= CUDNN_STATUS_NOT_SUPPORTED && code < CUDNN_STATUS_NOT_SUPPORTED + 1000);
}

// "This algorithm cannot run these pointers": another call of the same shape may be aligned.
bool misaligned(cudnnStatus_t status) {
  return status == CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
}

// Workspaces above this are skipped: such an algorithm is never worth the memory here.
constexpr size_t kMaxWorkspace = size_t(1) << 30;

int narrow_dim(int64_t v) {
  FUSENAS_CHECK(v <= std::numeric_limits<int>::max(), "conv2d: size {} is too large for cuDNN", v);
  return static_cast<int>(v);
}

// The four descriptors of one call, float32 NHWC.
class Descriptors {
 public:
  Descriptors(const Conv2dGeometry& g, cudnnMathType_t math) {
    FUSENAS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    FUSENAS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    FUSENAS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    FUSENAS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    FUSENAS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                                   narrow_dim(g.n), narrow_dim(g.cin),
                                                   narrow_dim(g.h), narrow_dim(g.w)));
    FUSENAS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                                                   narrow_dim(g.n), narrow_dim(g.cout),
                                                   narrow_dim(g.ho), narrow_dim(g.wo)));
    FUSENAS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                                                   narrow_dim(g.cout), narrow_dim(g.cin_g()),
                                                   narrow_dim(g.kh), narrow_dim(g.kw)));
    FUSENAS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv, narrow_dim(g.pad_h), narrow_dim(g.pad_w), narrow_dim(g.stride_h),
        narrow_dim(g.stride_w), narrow_dim(g.dilation_h), narrow_dim(g.dilation_w),
        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    FUSENAS_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, narrow_dim(g.groups)));
    FUSENAS_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, math));
    int dims[4];
    FUSENAS_CUDNN_CHECK(
        cudnnGetConvolution2dForwardOutputDim(conv, x, w, &dims[0], &dims[1], &dims[2], &dims[3]));
    FUSENAS_CHECK(dims[0] == g.n && dims[1] == g.cout && dims[2] == g.ho && dims[3] == g.wo,
                  "conv2d: cuDNN's output shape [{}, {}, {}, {}] (NCHW) differs from [{}, {}, {}, "
                  "{}]",
                  dims[0], dims[1], dims[2], dims[3], g.n, g.cout, g.ho, g.wo);
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
};

// Keeps usable heuristic results: launchable, affordable workspace, no FP16 down-conversion,
// and without TF32 unless allowed (FMA math is forced then: default math may pick TF32 kernels
// on Ampere and later); deterministic algorithms first, each group in cuDNN's order, each
// algorithm once.
template <typename Perf>
std::vector<Candidate> usable(const std::vector<Perf>& perfs, int returned, bool tf32) {
  std::vector<Candidate> deterministic, other;
  auto seen = [&](int algo) {
    for (const auto* list : {&deterministic, &other}) {
      for (const Candidate& c : *list) {
        if (c.algo == algo) return true;
      }
    }
    return false;
  };
  for (int i = 0; i < returned; ++i) {
    const Perf& p = perfs[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspace) continue;
    cudnnMathType_t math = p.mathType;
    if (math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (!tf32) {
      if (math != CUDNN_FMA_MATH && math != CUDNN_DEFAULT_MATH) continue;
      math = CUDNN_FMA_MATH;
    }
    const int algo = static_cast<int>(p.algo);
    if (seen(algo)) continue;
    (p.determinism == CUDNN_DETERMINISTIC ? deterministic : other)
        .push_back(Candidate{algo, math, p.memory});
  }
  deterministic.insert(deterministic.end(), other.begin(), other.end());
  return deterministic;
}

// cuDNN's own workspace query for one candidate (with its math type set), or false when the
// algorithm turns out not to support the shape.
bool query_workspace(Direction dir, cudnnHandle_t h, const Descriptors& d, int algo,
                     size_t& bytes) {
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
  switch (dir) {
    case Direction::Forward:
      status = cudnnGetConvolutionForwardWorkspaceSize(
          h, d.x, d.w, d.conv, d.y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), &bytes);
      break;
    case Direction::BackwardData:
      status = cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, d.w, d.y, d.conv, d.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), &bytes);
      break;
    case Direction::BackwardFilter:
      status = cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, d.x, d.y, d.conv, d.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), &bytes);
      break;
  }
  return status == CUDNN_STATUS_SUCCESS;
}

std::vector<Candidate> heuristics(Direction dir, cudnnHandle_t h, const Descriptors& d, bool tf32) {
  int count = 0, returned = 0;
  std::vector<Candidate> found;
  switch (dir) {
    case Direction::Forward: {
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perfs(count);
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, count,
                                                                 &returned, perfs.data()));
      found = usable(perfs, returned, tf32);
      break;
    }
    case Direction::BackwardData: {
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perfs(count);
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, d.w, d.y, d.conv, d.x, count, &returned, perfs.data()));
      found = usable(perfs, returned, tf32);
      break;
    }
    case Direction::BackwardFilter: {
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perfs(count);
      FUSENAS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, d.x, d.y, d.conv, d.w, count, &returned, perfs.data()));
      found = usable(perfs, returned, tf32);
      break;
    }
  }
  // The heuristics' memory estimate is not a promise: size each workspace with cuDNN's query.
  std::vector<Candidate> out;
  for (Candidate c : found) {
    FUSENAS_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, c.math));
    size_t bytes = 0;
    if (!query_workspace(dir, h, d, c.algo, bytes) || bytes > kMaxWorkspace) continue;
    c.workspace = std::max(c.workspace, bytes);
    out.push_back(c);
  }
  return out;
}

const char* direction_name(Direction dir) {
  switch (dir) {
    case Direction::Forward:
      return "forward";
    case Direction::BackwardData:
      return "backward data";
    case Direction::BackwardFilter:
      return "backward filter";
  }
  return "?";
}

// Runs one direction with the cached candidates: in = x (fwd/filter) or gy (data), other = w
// (fwd/data) or gy (filter), out = y, gx or gw.
bool run(Direction dir, const Conv2dGeometry& g, const Tensor& a, const Tensor& b,
         const Tensor& out) {
  DeviceContext& ctx = context_for(out);
  const bool tf32 = allow_tf32();
  const AlgoKey key{ctx.device, dir,     tf32,         g.n,          g.h,        g.w,
                    g.cin,      g.cout,  g.kh,         g.kw,         g.stride_h, g.stride_w,
                    g.pad_h,    g.pad_w, g.dilation_h, g.dilation_w, g.groups};
  const cudnnMathType_t default_math = tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  Descriptors d(g, default_math);
  std::vector<Candidate> candidates;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = algo_cache().find(key);
    if (it == algo_cache().end()) {
      it = algo_cache().emplace(key, heuristics(dir, ctx.cudnn, d, tf32)).first;
    }
    candidates = it->second;
  }
  const float one = 1.0f, zero = 0.0f;
  size_t unsupported = 0;  // leading candidates that cannot run this shape
  bool skipped = false;    // a candidate refused this call's pointers only
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    FUSENAS_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, c.math));
    Tensor workspace;
    if (c.workspace > 0) {
      workspace = Tensor::empty({static_cast<int64_t>(c.workspace)},
                                out.options().with_dtype(DType::UInt8));
    }
    void* ws = workspace.defined() ? workspace.raw_data() : nullptr;
    cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
    switch (dir) {
      case Direction::Forward:
        status = cudnnConvolutionForward(ctx.cudnn, &one, d.x, a.raw_data(), d.w, b.raw_data(),
                                         d.conv, static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws,
                                         c.workspace, &zero, d.y, out.raw_data());
        break;
      case Direction::BackwardData:
        status =
            cudnnConvolutionBackwardData(ctx.cudnn, &one, d.w, b.raw_data(), d.y, a.raw_data(),
                                         d.conv, static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
                                         ws, c.workspace, &zero, d.x, out.raw_data());
        break;
      case Direction::BackwardFilter:
        status = cudnnConvolutionBackwardFilter(
            ctx.cudnn, &one, d.x, a.raw_data(), d.y, b.raw_data(), d.conv,
            static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws, c.workspace, &zero, d.w,
            out.raw_data());
        break;
    }
    if (status == CUDNN_STATUS_SUCCESS) {
      if (unsupported > 0) {
        // Those candidates cannot run this shape: never try them again.
        std::lock_guard<std::mutex> lock(g_cache_mutex);
        auto& cached = algo_cache()[key];
        cached.assign(candidates.begin() + static_cast<std::ptrdiff_t>(unsupported),
                      candidates.end());
      }
      // Also counts the cuDNN call as one launch (cuDNN may start several kernels), costed as
      // the convolution's minimum: its workspace traffic depends on the algorithm cuDNN picks.
      FUSENAS_LAUNCH(cudaGetLastError(), "cuDNN convolution",
                     conv2d_cost(g, static_cast<int64_t>(dtype_size(out.dtype()))));
      return true;
    }
    if (!not_supported(status) && !misaligned(status)) FUSENAS_CUDNN_CHECK(status);
    cudaGetLastError();  // a refused candidate's runtime error, if it left one, is handled here
    if (misaligned(status)) skipped = true;
    if (!skipped) unsupported = i + 1;
  }
  if (skipped) return false;  // the direct kernels serve this call; the cache stays as it was
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    algo_cache()[key].clear();
  }
  static std::once_flag warned;
  std::call_once(warned, [&] {
    std::fprintf(stderr,
                 "fusenas: cuDNN has no usable %s algorithm for conv2d input [%lld, %lld, %lld, "
                 "%lld], weight [%lld, %lld, %lld, %lld], groups %lld; using the slower direct "
                 "kernels (reported once)\n",
                 direction_name(dir), static_cast<long long>(g.n), static_cast<long long>(g.h),
                 static_cast<long long>(g.w), static_cast<long long>(g.cin),
                 static_cast<long long>(g.cout), static_cast<long long>(g.kh),
                 static_cast<long long>(g.kw), static_cast<long long>(g.cin_g()),
                 static_cast<long long>(g.groups));
  });
  return false;
}

}  // namespace

bool cudnn_conv_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                        const Tensor& y) {
  return run(Direction::Forward, g, x, weight, y);
}

bool cudnn_conv_backward_data(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                              const Tensor& gx) {
  return run(Direction::BackwardData, g, gy, weight, gx);
}

bool cudnn_conv_backward_filter(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                                const Tensor& gw) {
  return run(Direction::BackwardFilter, g, x, gy, gw);
}

}  // namespace fusenas::cuda
