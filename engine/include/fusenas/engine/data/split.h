// Train/val split by a portion, as DARTS splits the training set for the search.
#pragma once

#include <cstdint>
#include <vector>

namespace fusenas::data {

struct Split {
  std::vector<int64_t> train;  // indices 0 .. floor(portion * n) - 1
  std::vector<int64_t> val;    // the rest, in order
};

// portion must lie in [0, 1].
Split split_train_val(int64_t n, double portion);

}  // namespace fusenas::data
