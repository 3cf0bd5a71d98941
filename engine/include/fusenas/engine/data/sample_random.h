// SampleRandom: counter-based random draws for one sample of one epoch, independent of threads
// and of where a run was resumed.
#pragma once

#include <cstdint>

namespace fusenas::data {

// Mixes a seed with a stream tag and an index (splitmix64 chain): distinct inputs give unrelated
// 64-bit seeds, so per-epoch generators and per-sample keys never share a Philox stream.
uint64_t mix_seed(uint64_t seed, uint64_t stream, uint64_t index);

// Words come from Philox4x32-10 keyed by the seed, at counter (epoch << 40) | (position << 4) |
// block, so sample `position` of `epoch` owns 16 blocks (64 words) nobody else draws.
class SampleRandom {
 public:
  static constexpr int kMaxWords = 64;

  SampleRandom(uint64_t seed, int64_t epoch, int64_t position);

  uint32_t next_u32();
  // Uniform integer in [0, n), n >= 1.
  int64_t next_below(int64_t n);
  // Uniform float in [0, 1).
  float next_float();

 private:
  uint64_t key_;
  uint64_t base_;  // counter of the sample's first block
  uint32_t words_[4] = {0, 0, 0, 0};
  int used_ = 0;  // words handed out so far
};

}  // namespace fusenas::data
