// Device-side check for ops whose contract reports the first out-of-range label or index.
#include "cuda/index_check.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "fusenas/kernels/index_check.h"

namespace fusenas::cuda {

IndexCheck::IndexCheck(const Tensor& indices, int64_t limit) : stream_(stream_for(indices)) {
  flag_ = Tensor::empty({1}, indices.options().with_dtype(DType::Int64));
  FUSENAS_LAUNCH(
      kernels::find_first_out_of_range(indices.numel(), indices.data<int64_t>(), limit,
                                       static_cast<unsigned long long*>(flag_.raw_data()), stream_),
      "find_first_out_of_range");
}

int64_t IndexCheck::first_bad() const {
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  FUSENAS_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capture));
  if (capture != cudaStreamCaptureStatusNone) return -1;
  unsigned long long first = kernels::kNoBadIndex;
  FUSENAS_CUDA_CHECK(
      cudaMemcpyAsync(&first, flag_.raw_data(), sizeof(first), cudaMemcpyDeviceToHost, stream_));
  FUSENAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return first == kernels::kNoBadIndex ? -1 : static_cast<int64_t>(first);
}

}  // namespace fusenas::cuda
