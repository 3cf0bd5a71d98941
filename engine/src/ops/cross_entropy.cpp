// cross_entropy: mean over the batch of fused log-softmax + NLL. Saves the logits (an input, so
// no extra memory) and one logsumexp per row; the backward rebuilds softmax from them. A label
// outside [0, K) throws at once on the CPU, and at the next read of the device on CUDA.
#include "ops/cpu/cross_entropy.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/cross_entropy.h"

namespace fusenas {

Tensor cross_entropy(const Tensor& input_logits, const Tensor& input_labels) {
  check_defined("cross_entropy", input_logits, "logits");
  check_defined("cross_entropy", input_labels, "labels");
  check_floating("cross_entropy", input_logits);
  FUSENAS_CHECK(input_logits.dim() == 2,
                "cross_entropy: logits must be [N, K], got logits {} and labels {}",
                shape_str(input_logits.shape()), shape_str(input_labels.shape()));
  FUSENAS_CHECK(input_labels.dtype() == DType::Int64,
                "cross_entropy: labels must be int64, got {} (logits {}, labels {})",
                dtype_name(input_labels.dtype()), shape_str(input_logits.shape()),
                shape_str(input_labels.shape()));
  const int64_t n = input_logits.shape()[0];
  const int64_t k = input_logits.shape()[1];
  FUSENAS_CHECK(input_labels.dim() == 1 && input_labels.shape()[0] == n,
                "cross_entropy: labels must be [N] = [{}], got logits {} and labels {}", n,
                shape_str(input_logits.shape()), shape_str(input_labels.shape()));
  FUSENAS_CHECK(input_labels.device() == input_logits.device(),
                "cross_entropy: logits on {} but labels on {} (logits {}, labels {})",
                input_logits.device().str(), input_labels.device().str(),
                shape_str(input_logits.shape()), shape_str(input_labels.shape()));
  FUSENAS_CHECK(n > 0 && k > 0, "cross_entropy: empty logits {} (labels {})",
                shape_str(input_logits.shape()), shape_str(input_labels.shape()));

  const Tensor logits = input_logits.contiguous();
  const Tensor labels = input_labels.contiguous();
  Tensor loss = Tensor::empty({}, logits.options());
  Tensor lse = Tensor::empty({n}, logits.options());
  const auto bad_label =
      [k, shapes = fmt::format("(logits {}, labels {})", shape_str(logits.shape()),
                               shape_str(labels.shape()))](int64_t row, int64_t label) {
        return fmt::format("cross_entropy: label {} at row {} is outside [0, {}) {}", label, row, k,
                           shapes);
      };
  if (logits.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::cross_entropy_forward(logits, labels, loss, lse, bad_label));
  } else {
    const int64_t bad_row = cpu::cross_entropy_forward(logits, labels, loss, lse);
    FUSENAS_CHECK(bad_row < 0, "{}", bad_label(bad_row, labels.data<int64_t>()[bad_row]));
  }
  if (needs_grad({&input_logits})) {
    record("cross_entropy", {input_logits}, {loss},
           [logits = logits.detach(), labels = labels.detach(),
            lse = lse.detach()](const BackwardContext& ctx) {
             const Tensor g = ctx.grad().contiguous();
             Tensor gx = Tensor::empty(logits.shape(), logits.options());
             if (g.is_cuda()) {
               FUSENAS_ON_CUDA(cuda::cross_entropy_backward(logits, labels, lse, g, gx));
             } else {
               cpu::cross_entropy_backward(logits, labels, lse, g, gx);
             }
             return std::vector{gx};
           });
  }
  return loss;
}

}  // namespace fusenas
