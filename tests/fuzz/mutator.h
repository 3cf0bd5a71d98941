// Mutator: deterministic, seeded edits of an input (AFL/libFuzzer's classic mutations).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fusenas::fuzz {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n); n > 0.
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  bool one_in(size_t n) { return below(n) == 0; }

 private:
  uint64_t state_;
};

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> dictionary);
  // `base` after 1 to 16 stacked edits, at most `max_len` bytes; `other` (another corpus input)
  // feeds splices.
  std::string mutate(std::string base, const std::string& other, size_t max_len);
  Rng& rng() { return rng_; }

 private:
  void edit(std::string& s, const std::string& other, size_t max_len);
  size_t pos(const std::string& s) { return s.empty() ? 0 : rng_.below(s.size()); }
  size_t chunk_len(size_t limit);

  Rng rng_;
  std::vector<std::string> dictionary_;
};

}  // namespace fusenas::fuzz
