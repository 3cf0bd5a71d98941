// CUDA launchers for copies, fills, in-place scaled adds, and host/device transfers.
#include "ops/cuda/copy.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "cuda/index_check.h"
#include "fusenas/kernels/elementwise.h"

namespace fusenas::cuda {

void copy(const Tensor& src, const Tensor& dst) {
  auto desc = make_desc<2>(dst.shape(), {dst.strides(), src.strides()});
  FUSENAS_LAUNCH(kernels::strided_copy(desc, scalar_type(dst.dtype()), dst.raw_data(),
                                       scalar_type(src.dtype()), src.raw_data(), stream_for(dst)),
                 "strided_copy", LaunchCost(bytes_of(src) + bytes_of(dst), 0));
}

void fill(const Tensor& dst, double value) {
  auto desc = make_desc<1>(dst.shape(), {dst.strides()});
  FUSENAS_LAUNCH(
      kernels::fill(desc, scalar_type(dst.dtype()), dst.raw_data(), value, stream_for(dst)), "fill",
      LaunchCost(bytes_of(dst), 0));
}

void axpy(const Tensor& dst, const Tensor& src, double alpha) {
  Shape src_strides(dst.dim(), 0);
  const size_t lead = dst.shape().size() - src.shape().size();
  for (size_t i = 0; i < src.shape().size(); ++i) {
    src_strides[lead + i] = src.shape()[i] == 1 ? 0 : src.strides()[i];
  }
  auto desc = make_desc<2>(dst.shape(), {dst.strides(), src_strides});
  FUSENAS_LAUNCH(kernels::axpy(desc, scalar_type(dst.dtype()), dst.raw_data(), src.raw_data(),
                               alpha, stream_for(dst)),
                 // dst read and written, src read once; a multiply-add per element.
                 "axpy", LaunchCost(2 * bytes_of(dst) + bytes_of(src), 2 * dst.numel()));
}

void scale_inplace(const Tensor& dst, double factor) {
  auto desc = make_desc<1>(dst.shape(), {dst.strides()});
  FUSENAS_LAUNCH(kernels::scale_inplace(desc, scalar_type(dst.dtype()), dst.raw_data(), factor,
                                        stream_for(dst)),
                 "scale_inplace", LaunchCost(2 * bytes_of(dst), dst.numel()));
}

void transfer(const Tensor& src, const Tensor& dst) {
  const size_t nbytes = static_cast<size_t>(src.numel()) * dtype_size(src.dtype());
  if (nbytes == 0) return;
  const Tensor& gpu = dst.is_cuda() ? dst : src;
  cudaStream_t stream = stream_for(gpu);
  FUSENAS_CUDA_CHECK(
      cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyDefault, stream));
  if (dst.is_cuda() && src.is_cuda()) return;
  // The host side may be read or freed right after this returns.
  note_host_sync();
  FUSENAS_CUDA_CHECK(cudaStreamSynchronize(stream));
  // The host waited anyway: report a bad label or index recorded by the work before this copy.
  if (!dst.is_cuda()) drain_index_errors(src.device().index);
}

}  // namespace fusenas::cuda
