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

// The list's bytes and elements, for the launches' costs.
struct ListSize {
  int64_t bytes = 0, elements = 0;
};
ListSize total_size(const std::vector<Tensor>& xs) {
  ListSize size;
  for (const Tensor& x : xs) {
    size.bytes += bytes_of(x);
    size.elements += x.numel();
  }
  return size;
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
      "sum_of_squares",
      // Every element read once, a multiply-add each; the partials round trip.
      LaunchCost(total_size(xs).bytes + 2 * bytes_of(partials) + bytes_of(out),
                 2 * total_size(xs).elements));
  return out;
}

void scale_(const std::vector<Tensor>& xs, const Tensor& factor) {
  const std::vector<kernels::GradTensor> list = table(xs);
  FUSENAS_LAUNCH(kernels::scale_multi_tensor(scalar_type(xs.front().dtype()), list.data(),
                                             static_cast<int>(list.size()), factor.raw_data(),
                                             stream_for(xs.front())),
                 "scale_",
                 // Every element read and written, one multiply each.
                 LaunchCost(2 * total_size(xs).bytes + bytes_of(factor), total_size(xs).elements));
}

void copy_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src) {
  const std::vector<kernels::TensorPair> list = pairs(dst, src);
  FUSENAS_LAUNCH(kernels::copy_multi_tensor(scalar_type(dst.front().dtype()), list.data(),
                                            static_cast<int>(list.size()), stream_for(dst.front())),
                 "copy_",
                 // Every source element read, every destination element written.
                 LaunchCost(2 * total_size(dst).bytes, 0));
}

void add_(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, double alpha) {
  const std::vector<kernels::TensorPair> list = pairs(dst, src);
  FUSENAS_LAUNCH(
      kernels::axpy_multi_tensor(scalar_type(dst.front().dtype()), list.data(),
                                 static_cast<int>(list.size()), alpha, stream_for(dst.front())),
      "add_",
      // Both read, the destination written; one multiply-add per element.
      LaunchCost(3 * total_size(dst).bytes, 2 * total_size(dst).elements));
}

}  // namespace fusenas::cuda
