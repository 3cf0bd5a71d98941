// CUDA launchers of the multi-tensor sum of squares and scaling.
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

}  // namespace fusenas::cuda
