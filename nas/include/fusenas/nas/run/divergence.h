// A run that diverges stops with one line saying what went non-finite, where and at which lr,
// instead of writing NaN metrics (or null alphas) and finishing "successfully".
#pragma once

#include <cstdint>
#include <string>

namespace fusenas::nas {

// Where a run is: epoch and step within it (both counted from 1), and the lr it trains with.
struct RunPoint {
  int64_t epoch = 0;
  int64_t step = 0;
  double lr = 0;
};

// Throws fusenas::Error "diverged: <what> is nan at epoch E, step S (lr L); ..." unless `value`
// is finite. step 0 means "at the end of the epoch".
void check_finite(double value, const std::string& what, const RunPoint& at);

}  // namespace fusenas::nas
