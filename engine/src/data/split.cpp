// Train/val split by a portion: the first floor(portion * n) indices, then the rest.
#include "fusenas/engine/data/split.h"

#include <cmath>
#include <numeric>

#include "fusenas/engine/error.h"

namespace fusenas::data {

Split split_train_val(int64_t n, double portion) {
  FUSENAS_CHECK(n >= 0, "split_train_val: negative sample count {}", n);
  FUSENAS_CHECK(portion >= 0.0 && portion <= 1.0, "split_train_val: portion {} is outside [0, 1]",
                portion);
  const auto n_train = static_cast<int64_t>(std::floor(portion * static_cast<double>(n)));
  Split split;
  split.train.resize(n_train);
  split.val.resize(n - n_train);
  std::iota(split.train.begin(), split.train.end(), int64_t{0});
  std::iota(split.val.begin(), split.val.end(), n_train);
  return split;
}

}  // namespace fusenas::data
