// One DARTS search step as train_search.py takes it: the architect's step on the alphas, then one
// SGD step on the weights with gradient clipping.
#pragma once

#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/darts/architect.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas {

// Everything stays on the step's device (0-d tensors for the losses): the step itself never waits
// for the host, so a GPU runs it without syncs and it can be captured into a CUDA graph.
struct SearchStepResult {
  Tensor train_loss;  // of the weight step
  Tensor val_loss;    // the architect's validation loss
  Tensor logits;      // of the weight step, for accuracy
};

// xi, the virtual step of second order, is the weights' current lr. Leaves the clipped weight
// gradients in .grad and the alpha gradient in the alphas' .grad. Without `update_alphas` (a
// warm-up step) the architect is skipped: the alphas stay as they are and val_loss is undefined.
SearchStepResult darts_search_step(Supernet& net, Architect& architect, optim::SGD& weights,
                                   double grad_clip, const Tensor& x_train, const Tensor& y_train,
                                   const Tensor& x_val, const Tensor& y_val,
                                   bool update_alphas = true);

}  // namespace fusenas::nas
