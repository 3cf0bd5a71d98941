// One DARTS search step.
#include "fusenas/nas/darts/search_step.h"

#include "fusenas/engine/ops.h"

namespace fusenas::nas {

SearchStepResult darts_search_step(Supernet& net, Architect& architect, optim::SGD& weights,
                                   double grad_clip, const Tensor& x_train, const Tensor& y_train,
                                   const Tensor& x_val, const Tensor& y_val, bool update_alphas) {
  SearchStepResult r;
  net.train();
  if (update_alphas) r.val_loss = architect.step(x_train, y_train, x_val, y_val, weights.lr());
  weights.zero_grad();
  r.logits = net.forward_mixed(x_train, false);
  Tensor loss = cross_entropy(r.logits, y_train);
  loss.backward();
  if (grad_clip > 0) optim::clip_grad_norm_on_device(weights.params(), grad_clip);
  weights.step();
  r.train_loss = loss.detach();
  return r;
}

}  // namespace fusenas::nas
