// Raw kernels for mean cross-entropy of contiguous logits [n, k] against int64 labels [n].
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// lse[r] = logsumexp of row r; loss (one element) = mean_r (lse[r] - logits[r, labels[r]]).
// row_loss is n doubles of scratch. A row whose label is outside [0, k) makes the loss NaN (the
// engine checks labels separately with record_first_out_of_range).
cudaError_t cross_entropy_forward(ScalarType type, int64_t n, int64_t k, const void* logits,
                                  const int64_t* labels, void* loss, void* lse, double* row_loss,
                                  cudaStream_t stream);
// glogits = gloss / n * (exp(logits - lse) - onehot(labels)); gloss is one device element.
cudaError_t cross_entropy_backward(ScalarType type, int64_t n, int64_t k, const void* logits,
                                   const int64_t* labels, const void* lse, const void* gloss,
                                   void* glogits, cudaStream_t stream);

}  // namespace fusenas::kernels
