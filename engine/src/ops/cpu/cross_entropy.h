// CPU kernels for mean cross-entropy of logits [N, K] against int64 labels [N] (fused log-softmax
// and negative log-likelihood).
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// loss (0-d) = mean_n (lse[n] - logits[n, labels[n]]), lse [N] = logsumexp of each row (saved for
// the backward). logits contiguous. Returns the first row whose label is outside [0, K) and
// writes nothing then; -1 when every label is valid.
int64_t cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                              const Tensor& lse);
// glogits = gloss / N * (exp(logits - lse) - onehot(labels)); gloss is the 0-d output gradient.
void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits);

}  // namespace fusenas::cpu
