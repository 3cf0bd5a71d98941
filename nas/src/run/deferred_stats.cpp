// DeferredStepStats: the argmax runs on the step's device at once; only reading waits for it.
#include "fusenas/nas/run/deferred_stats.h"

#include "fusenas/engine/ops.h"

namespace fusenas::nas {

void DeferredStepStats::add(const Tensor& loss, const Tensor& logits, const Tensor& labels,
                            const Tensor& val_loss, int64_t val_count) {
  pending_.push_back(Step{loss.detach(), argmax_last(logits.detach()), labels,
                          val_loss.defined() ? val_loss.detach() : Tensor(), val_count});
}

StepSums DeferredStepStats::drain() {
  StepSums sums;
  for (const Step& s : pending_) {
    const int64_t n = s.labels.size(0);
    sums.loss_sum += s.loss.item() * static_cast<double>(n);
    if (s.val_loss.defined())
      sums.val_loss_sum += s.val_loss.item() * static_cast<double>(s.val_count);
    const auto pred = s.predictions.to(Device::cpu()).to_vector<int64_t>();
    const int64_t* y = s.labels.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) sums.correct += pred[i] == y[i];
  }
  pending_.clear();
  return sums;
}

}  // namespace fusenas::nas
