// CUDA launchers for fused mean cross-entropy. The label check runs on the stream too and is read
// back later (cuda/index_check.h).
#include "ops/cuda/cross_entropy.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "cuda/index_check.h"
#include "fusenas/kernels/cross_entropy.h"

namespace fusenas::cuda {

void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                           const Tensor& lse, IndexErrorMessage bad_label) {
  const int64_t n = logits.shape()[0], k = logits.shape()[1];
  check_indices(labels, k, std::move(bad_label));
  Tensor row_loss = Tensor::empty({n}, logits.options().with_dtype(DType::Float64));
  FUSENAS_LAUNCH(kernels::cross_entropy_forward(
                     scalar_type(logits.dtype()), n, k, logits.raw_data(), labels.data<int64_t>(),
                     loss.raw_data(), lse.raw_data(), row_loss.data<double>(), stream_for(logits)),
                 "cross_entropy",
                 // Logits and labels read; loss, lse and the per-row partials written (the
                 // partials read back). Max, subtract, exp and sum per logit.
                 LaunchCost(bytes_of(logits) + bytes_of(labels) + bytes_of(loss) + bytes_of(lse) +
                                2 * bytes_of(row_loss),
                            4 * logits.numel()));
}

void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits) {
  FUSENAS_LAUNCH(
      kernels::cross_entropy_backward(scalar_type(logits.dtype()), logits.shape()[0],
                                      logits.shape()[1], logits.raw_data(), labels.data<int64_t>(),
                                      lse.raw_data(), gloss.raw_data(), glogits.raw_data(),
                                      stream_for(logits)),
      "cross_entropy backward",
      // softmax(logits) - onehot, scaled: subtract, exp, multiply per logit.
      LaunchCost(2 * bytes_of(logits) + bytes_of(labels) + bytes_of(lse) + bytes_of(gloss),
                 3 * logits.numel()));
}

}  // namespace fusenas::cuda
