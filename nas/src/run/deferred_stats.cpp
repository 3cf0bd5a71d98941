// DeferredStepStats: the argmax runs on the step's device at once; reading gathers every pending
// value into one tensor per kind on the device, then copies those back (a copy each, not one per
// step).
#include "fusenas/nas/run/deferred_stats.h"

#include <cmath>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas {
namespace {

// The values of tensors of any shape on one device, flattened in order, as host doubles or ints.
template <typename T>
std::vector<T> read_back(const std::vector<Tensor>& parts) {
  if (parts.empty()) return {};
  std::vector<Tensor> flat;
  flat.reserve(parts.size());
  for (const Tensor& p : parts) flat.push_back(p.reshape({p.numel()}));
  return concat(flat, 0).to(Device::cpu()).to_vector<T>();
}

}  // namespace

void DeferredStepStats::add(const Tensor& loss, const Tensor& logits, const Tensor& labels,
                            const Tensor& val_loss, int64_t val_count, const RunPoint& at) {
  pending_.push_back(Step{loss.detach(), argmax_last(logits.detach()), labels,
                          val_loss.defined() ? val_loss.detach() : Tensor(), val_count, at});
}

StepSums DeferredStepStats::drain() {
  StepSums sums;
  if (pending_.empty()) return sums;
  const NoGradGuard no_grad;
  std::vector<Tensor> losses, val_losses, predictions;
  for (const Step& s : pending_) {
    losses.push_back(s.loss);
    predictions.push_back(s.predictions);
    if (s.val_loss.defined()) val_losses.push_back(s.val_loss);
  }
  const std::vector<double> loss = read_back<double>(losses);
  const std::vector<double> val_loss = read_back<double>(val_losses);
  const std::vector<int64_t> pred = read_back<int64_t>(predictions);
  size_t next_val = 0, next_pred = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Step& s = pending_[i];
    const int64_t n = s.labels.size(0);
    if (!std::isfinite(loss[i]) || (s.val_loss.defined() && !std::isfinite(val_loss[next_val]))) {
      pending_.clear();  // nothing of a diverged stretch is kept
      check_finite(loss[i], "the training loss", s.at);
      check_finite(val_loss[next_val], "the architect's validation loss", s.at);
    }
    sums.loss_sum += loss[i] * static_cast<double>(n);
    if (s.val_loss.defined()) {
      sums.val_loss_sum += val_loss[next_val++] * static_cast<double>(s.val_count);
    }
    const int64_t* y = s.labels.data<int64_t>();
    for (int64_t j = 0; j < n; ++j) sums.correct += pred[next_pred++] == y[j];
  }
  pending_.clear();
  return sums;
}

}  // namespace fusenas::nas
