// CUDA launchers for embedding lookup and its deterministic scatter-add backward. The index check
// runs on the stream too and is read back later (cuda/index_check.h).
#include "ops/cuda/embedding.h"

#include <limits>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "cuda/index_check.h"
#include "fusenas/kernels/embedding.h"

namespace fusenas::cuda {

void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out,
                       IndexErrorMessage bad_index) {
  const int64_t v = weight.shape()[0], d = weight.shape()[1];
  check_indices(indices, v, std::move(bad_index));
  FUSENAS_LAUNCH(kernels::embedding_forward(scalar_type(weight.dtype()), indices.numel(), v, d,
                                            weight.raw_data(), indices.data<int64_t>(),
                                            out.raw_data(), stream_for(weight)),
                 "embedding",
                 // A gather: the indices, then one row of d read and written per index.
                 LaunchCost(bytes_of(indices) + 2 * bytes_of(out), 0));
}

void embedding_backward(const Tensor& gy, const Tensor& indices, const Tensor& gweight) {
  const int64_t n = indices.numel(), v = gweight.shape()[0], d = gweight.shape()[1];
  FUSENAS_CHECK(n <= std::numeric_limits<int>::max(),
                "embedding backward: {} indices exceed the CUDA kernel's limit of 2^31 - 1", n);
  const size_t bytes = kernels::embedding_backward_workspace(n, v);
  Tensor workspace =
      Tensor::empty({static_cast<int64_t>(bytes)}, gy.options().with_dtype(DType::UInt8));
  FUSENAS_LAUNCH(
      kernels::embedding_backward(scalar_type(gy.dtype()), n, v, d, gy.raw_data(),
                                  indices.data<int64_t>(), gweight.raw_data(), workspace.raw_data(),
                                  bytes, stream_for(gy)),
      "embedding backward",
      // gy and the indices read, every row of gweight written, the sort workspace
      // round trip; one add per element of gy.
      LaunchCost(bytes_of(gy) + bytes_of(indices) + bytes_of(gweight) + 2 * bytes_of(workspace),
                 gy.numel()));
}

}  // namespace fusenas::cuda
