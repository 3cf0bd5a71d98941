// CUDA launchers for sum reductions and argmax.
#include "ops/cuda/reduce.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/reduce.h"

namespace fusenas::cuda {

void sum_reduce(const Tensor& x, const std::vector<bool>& reduced, const Tensor& out,
                double factor) {
  int64_t kept = 1, summed = 1;
  std::vector<int64_t> order;
  bool leading = true, seen_kept = false;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) {
      summed *= x.shape()[d];
      if (seen_kept) leading = false;
    } else {
      kept *= x.shape()[d];
      seen_kept = true;
      order.push_back(d);
    }
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) order.push_back(d);
  }
  cudaStream_t stream = stream_for(x);
  if (leading && x.is_contiguous()) {
    Tensor partials = Tensor::empty({kernels::column_sum_partials(summed, kept)},
                                    x.options().with_dtype(DType::Float64));
    FUSENAS_LAUNCH(kernels::column_sum(scalar_type(x.dtype()), summed, kept, x.raw_data(),
                                       out.raw_data(), factor, partials.data<double>(), stream),
                   "column_sum",
                   LaunchCost(bytes_of(x) + bytes_of(out) + 2 * bytes_of(partials), x.numel()));
    return;
  }
  const Tensor moved = x.detach().permute(order).contiguous();
  FUSENAS_LAUNCH(kernels::row_sum(scalar_type(x.dtype()), kept, summed, moved.raw_data(),
                                  out.raw_data(), factor, stream),
                 "row_sum", LaunchCost(bytes_of(moved) + bytes_of(out), x.numel()));
}

void argmax_last(const Tensor& x, const Tensor& out) {
  const int64_t k = x.shape().back();
  FUSENAS_LAUNCH(kernels::argmax_rows(scalar_type(x.dtype()), x.numel() / k, k, x.raw_data(),
                                      out.data<int64_t>(), stream_for(x)),
                 "argmax_rows", LaunchCost(bytes_of(x) + bytes_of(out), x.numel()));
}

}  // namespace fusenas::cuda
