// CUDA launchers of the multi-tensor sum of squares, scaling, copy and axpy.
#include "optim/cuda/multi_tensor.h"

#include <algorithm>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/optimizers.h"

namespace fusenas::cuda {

namespace {
std::vector<kernels::GradTensor> table(const std::vector<Tensor>& xs) {
  std::vector<kernels::GradTensor> list;
  for (const Tensor& x : xs) list.push_back({x.raw_data(), x.numel()});
  return list;
}
std::vector<kernels::TensorPair> pairs(const std::vector<Tensor>& dst,
                                       const std::vector<Tensor>& src) {
  std::vector<kernels::TensorPair> list;
  for (size_t i = 0; i < dst.size(); ++i)
    list.push_back({dst[i].raw_data(), src[i].raw_data(), dst[i].numel()});
  return list;
}
}  // namespace

Tensor sum_of_squares(const std::vector<Tensor>& xs) {
  const Tensor& first = xs.front();
  const std::vector<kernels::GradTensor> list = table(xs);
  const int count = static_cast<int>(list.size());
  const Tensor partials =
      Tensor::empty({std::max<int64_t>(kernels::sum_squares_partials(list.data(), count), 1)},
                    first.options().with_dtype(DType::Float64));
  const Tensor out = Tensor::empty({}, first.options());
  FUSENAS_LAUNCH(
      kernels::sum_squares_multi_tensor(scalar_type(first.dtype()), list.data(), count,
                                        partials.data<double>(), out.raw_data(), stream_for(first)),
      "sum_of_squares");
  return out;
}

void scale_(const std::vector<Tensor>& xs, const Tensor& factor) {
  const std::vector<kernels::GradTensor> list = table(xs);
  FUSENAS_LAUNCH(kernels::scale_multi_tensor(scalar_type(xs.front().dtype()), list.data(),
                                             static_cast<int>(list.size()), factor.raw_data(),
                                             stream_for(xs.front())),
                 "scale_");
}

void copy_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src) {
  const std::vector<kernels::TensorPair> list = pairs(dst, src);
  FUSENAS_LAUNCH(kernels::copy_multi_tensor(scalar_type(dst.front().dtype()), list.data(),
                                            static_cast<int>(list.size()), stream_for(dst.front())),
                 "copy_");
}

void add_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, double alpha) {
  const std::vector<kernels::TensorPair> list = pairs(dst, src);
  FUSENAS_LAUNCH(
      kernels::axpy_multi_tensor(scalar_type(dst.front().dtype()), list.data(),
                                 static_cast<int>(list.size()), alpha, stream_for(dst.front())),
      "add_");
}

}  // namespace fusenas::cuda
