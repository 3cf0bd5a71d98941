// Per-step training statistics kept on the device until they are read, so a GPU step never waits
// for the host just to log its loss: reading (drain) costs one sync and three copies for all
// pending steps. The copies also read the device's label/index checks (cuda.h, synchronize()),
// so a bad label in any pending step throws from drain(), and a non-finite loss throws there too
// (divergence.h), naming the first step that diverged.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "fusenas/engine/tensor.h"
#include "fusenas/nas/run/divergence.h"

namespace fusenas::nas {

struct StepSums {
  double loss_sum = 0;      // sum of loss * batch size
  double val_loss_sum = 0;  // sum of validation loss * its batch size
  int64_t correct = 0;      // argmax of the logits equal to the label
};

class DeferredStepStats {
 public:
  // `loss` and `val_loss` are 0-d tensors (val_loss may be undefined), `logits` [n, classes] on
  // any device, `labels` [n] int64 on the CPU; `at` is the step, for the divergence message.
  void add(const Tensor& loss, const Tensor& logits, const Tensor& labels, const Tensor& val_loss,
           int64_t val_count, const RunPoint& at);
  // The sums of every step added since the last drain.
  StepSums drain();
  // Adds the drained sums into a run's epoch totals (loss_sum, correct, train_seconds and, where
  // it has one, val_loss_sum). The wait for the device counts as training time.
  template <typename Totals>
  void drain_into(Totals& totals) {
    const auto start = std::chrono::steady_clock::now();
    const StepSums sums = drain();
    totals.loss_sum += sums.loss_sum;
    totals.correct += sums.correct;
    if constexpr (requires { totals.val_loss_sum; }) totals.val_loss_sum += sums.val_loss_sum;
    totals.train_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  bool empty() const { return pending_.empty(); }

 private:
  struct Step {
    Tensor loss, predictions, labels, val_loss;
    int64_t val_count = 0;
    RunPoint at;
  };
  std::vector<Step> pending_;
};

}  // namespace fusenas::nas
