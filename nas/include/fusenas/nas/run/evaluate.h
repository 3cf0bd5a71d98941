// Evaluation of a classifier over one pass of a loader, without gradients: mean loss and
// accuracy, a progress bar, and an early stop when asked.
#pragma once

#include <functional>
#include <string>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"

namespace fusenas::nas {

struct EvalResult {
  double loss = 0;  // mean over the images
  double acc = 0;   // percent
  double seconds = 0;
  bool aborted = false;  // `stop` returned true before the pass ended
};

// Runs `forward` (images on `device` -> logits) on every batch of one epoch of `loader`.
EvalResult evaluate_classifier(data::DataLoader& loader, Device device,
                               const std::function<Tensor(const Tensor&)>& forward,
                               const std::function<bool()>& stop, bool progress,
                               const std::string& label);

}  // namespace fusenas::nas
