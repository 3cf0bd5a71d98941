// Generator: an explicit, seeded counter-based random source (Philox4x32-10), reproducible bit for
// bit.
#pragma once

#include <cstdint>

namespace fusenas {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;    // number of 128-bit Philox blocks consumed
  uint32_t buffered = 0;  // words of the last block not handed out yet
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}

  // Reserves `blocks` Philox blocks and returns the first block index (for device kernels).
  uint64_t reserve(uint64_t blocks);
  uint32_t next_u32();
  uint64_t next_u64();
  double next_double();  // uniform in [0, 1)
  float next_float();    // uniform in [0, 1)
  double next_normal();  // standard normal (Box-Muller)
  // Uniform integer in [low, high).
  int64_t next_int(int64_t low, int64_t high);

  uint64_t seed() const { return state_.seed; }
  GeneratorState state() const;
  void set_state(const GeneratorState& state);

 private:
  GeneratorState state_;
  uint32_t buffer_[4] = {0, 0, 0, 0};
  int buffered_ = 0;  // words left in buffer_
};

}  // namespace fusenas
