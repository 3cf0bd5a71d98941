// One evaluation pass of a classifier.
#include "fusenas/nas/run/evaluate.h"

#include <chrono>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/run/progress.h"
#include "fusenas/nas/run/setup.h"

namespace fusenas::nas {

EvalResult evaluate_classifier(data::DataLoader& loader, Device device,
                               const std::function<Tensor(const Tensor&)>& forward,
                               const std::function<bool()>& stop, bool progress,
                               const std::string& label) {
  const auto t0 = std::chrono::steady_clock::now();
  const NoGradGuard no_grad;
  const int64_t batches = loader.batches_per_epoch();
  Progress bar(label, batches, "img");
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  for (int64_t b = 0; b < batches; ++b) {
    if (stop()) {
      r.aborted = true;
      break;
    }
    const data::Batch batch = loader.next();
    const Tensor logits = forward(device.is_cpu() ? batch.images : batch.images.to(device));
    const Tensor y = device.is_cpu() ? batch.labels : batch.labels.to(device);
    const int64_t n = batch.labels.size(0);
    loss_sum += cross_entropy(logits, y).item() * static_cast<double>(n);
    correct += count_correct(logits, batch.labels);
    seen += n;
    if (progress) bar.update(b + 1, seen, "");
  }
  if (progress) bar.finish();
  r.loss = seen > 0 ? loss_sum / seen : 0;
  r.acc = seen > 0 ? 100.0 * correct / seen : 0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace fusenas::nas
