// SampleRandom: Philox words addressed by (seed, epoch, sample position), no sequential state.
#include "fusenas/engine/data/sample_random.h"

#include "fusenas/engine/error.h"
#include "fusenas/kernels/philox.h"

namespace fusenas::data {
namespace {

constexpr int kPositionBits = 36;  // 6.9e10 samples per epoch
constexpr int kEpochBits = 64 - 4 - kPositionBits;
constexpr uint64_t kAugmentStream = 0x6175676dULL;  // "augm"

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t stream, uint64_t index) {
  return splitmix64(seed ^ splitmix64(stream ^ splitmix64(index)));
}

SampleRandom::SampleRandom(uint64_t seed, int64_t epoch, int64_t position)
    : key_(mix_seed(seed, kAugmentStream, 0)) {
  FUSENAS_CHECK(epoch >= 0 && epoch < (int64_t{1} << kEpochBits),
                "SampleRandom: epoch {} is outside [0, 2^{})", epoch, kEpochBits);
  FUSENAS_CHECK(position >= 0 && position < (int64_t{1} << kPositionBits),
                "SampleRandom: sample position {} is outside [0, 2^{})", position, kPositionBits);
  base_ = (static_cast<uint64_t>(epoch) << (kPositionBits + 4)) |
          (static_cast<uint64_t>(position) << 4);
}

uint32_t SampleRandom::next_u32() {
  FUSENAS_CHECK(used_ < kMaxWords, "SampleRandom: a sample may draw at most {} words", kMaxWords);
  if (used_ % 4 == 0) {
    const auto block = kernels::philox4x32(key_, base_ + static_cast<uint64_t>(used_ / 4));
    for (int i = 0; i < 4; ++i) words_[i] = block.v[i];
  }
  return words_[used_++ % 4];
}

int64_t SampleRandom::next_below(int64_t n) {
  FUSENAS_CHECK(n >= 1 && n <= (int64_t{1} << 32), "SampleRandom: range {} is outside [1, 2^32]",
                n);
  // Lemire's multiply-shift; the bias is below n / 2^32, negligible for image sizes.
  return static_cast<int64_t>((static_cast<uint64_t>(next_u32()) * static_cast<uint64_t>(n)) >> 32);
}

float SampleRandom::next_float() {
  return kernels::philox_uniform(next_u32());
}

}  // namespace fusenas::data
