// Generator: sequential draws from the Philox stream, plus state save/restore for checkpoints.
#include "fusenas/engine/generator.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/kernels/philox.h"

namespace fusenas {

uint64_t Generator::reserve(uint64_t blocks) {
  buffered_ = 0;  // device consumers start on a fresh block boundary
  const uint64_t first = state_.offset;
  state_.offset += blocks;
  return first;
}

uint32_t Generator::next_u32() {
  if (buffered_ == 0) {
    const auto block = kernels::philox4x32(state_.seed, state_.offset++);
    for (int i = 0; i < 4; ++i) buffer_[i] = block.v[i];
    buffered_ = 4;
  }
  return buffer_[4 - buffered_--];
}

uint64_t Generator::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

double Generator::next_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

float Generator::next_float() {
  return kernels::philox_uniform(next_u32());
}

double Generator::next_normal() {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - next_double();
  const double u2 = next_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int64_t Generator::next_int(int64_t low, int64_t high) {
  FUSENAS_CHECK(high > low, "randint: empty range [{}, {})", low, high);
  const uint64_t range = static_cast<uint64_t>(high - low);
  // Lemire's multiply-shift on 64 bits is unbiased enough for ranges far below 2^64.
  const unsigned __int128 product = static_cast<unsigned __int128>(next_u64()) * range;
  return low + static_cast<int64_t>(product >> 64);
}

GeneratorState Generator::state() const {
  GeneratorState s = state_;
  s.buffered = static_cast<uint32_t>(buffered_);
  return s;
}

void Generator::set_state(const GeneratorState& state) {
  FUSENAS_CHECK(state.buffered <= 4 && (state.buffered == 0 || state.offset > 0),
                "generator state is corrupt (offset {}, buffered {})", state.offset,
                state.buffered);
  state_ = {state.seed, state.offset, 0};
  buffered_ = static_cast<int>(state.buffered);
  if (buffered_ > 0) {
    const auto block = kernels::philox4x32(state_.seed, state_.offset - 1);
    for (int i = 0; i < 4; ++i) buffer_[i] = block.v[i];
  }
}

}  // namespace fusenas
