// Mutator: byte and chunk edits, boundary values, splices and dictionary tokens, from one seeded
// generator so a run with the same seed and exec count repeats exactly.
#include "mutator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace fusenas::fuzz {
namespace {

constexpr std::array<uint8_t, 12> kBytes = {0,   1,   0x7f, 0x80, 0xff, 0xfe,
                                            '0', '9', '[',  '{',  '"',  '-'};
constexpr std::array<uint64_t, 14> kInts = {0,
                                            1,
                                            2,
                                            0x7f,
                                            0x80,
                                            0xff,
                                            0x7fff,
                                            0x8000,
                                            0xffff,
                                            0x7fffffff,
                                            0x80000000,
                                            0xffffffff,
                                            0x7fffffffffffffff,
                                            ~uint64_t{0}};
// Numbers that sit on a parser's boundaries: signs, int32/int64/uint64 limits and past them,
// exponents, and what std::stod accepts but JSON does not.
constexpr std::array<const char*, 18> kNumbers = {"-1",
                                                  "0",
                                                  "1",
                                                  "2147483647",
                                                  "2147483648",
                                                  "-2147483649",
                                                  "4294967296",
                                                  "99999999999",
                                                  "9223372036854775808",
                                                  "18446744073709551616",
                                                  "1e308",
                                                  "1e309",
                                                  "-0",
                                                  "1.5",
                                                  "0.9999999999",
                                                  "nan",
                                                  "inf",
                                                  "1e-400"};

}  // namespace

uint64_t Rng::next() {
  // splitmix64: every seed gives a full-period, well-mixed stream.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Mutator::Mutator(uint64_t seed, std::vector<std::string> dictionary)
    : rng_(seed), dictionary_(std::move(dictionary)) {}

size_t Mutator::chunk_len(size_t limit) {
  if (limit == 0) return 0;
  // Mostly short chunks, sometimes long ones.
  const size_t cap = rng_.one_in(8) ? limit : std::min<size_t>(limit, 16);
  return 1 + rng_.below(cap);
}

std::string Mutator::mutate(std::string s, const std::string& other, size_t max_len) {
  const int edits = 1 << rng_.below(5);  // 1, 2, 4, 8 or 16
  for (int i = 0; i < edits; ++i) edit(s, other, max_len);
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

void Mutator::edit(std::string& s, const std::string& other, size_t max_len) {
  const size_t kind = rng_.below(15);
  switch (kind) {
    case 0:  // flip a bit
      if (!s.empty()) s[pos(s)] ^= static_cast<char>(1u << rng_.below(8));
      break;
    case 1:  // an interesting byte
      if (!s.empty()) s[pos(s)] = static_cast<char>(kBytes[rng_.below(kBytes.size())]);
      break;
    case 2:  // a random byte
      if (!s.empty()) s[pos(s)] = static_cast<char>(rng_.next());
      break;
    case 3: {  // insert random bytes
      const size_t n = chunk_len(64);
      std::string bytes(n, '\0');
      for (char& c : bytes) c = static_cast<char>(rng_.next());
      s.insert(s.empty() ? 0 : rng_.below(s.size() + 1), bytes);
      break;
    }
    case 4:  // delete a chunk
      if (!s.empty()) {
        const size_t at = pos(s);
        s.erase(at, chunk_len(s.size() - at));
      }
      break;
    case 5:  // duplicate a chunk, sometimes many times (deep nesting, long lists)
      if (!s.empty()) {
        const size_t at = pos(s);
        const std::string piece = s.substr(at, chunk_len(s.size() - at));
        // Never past max_len: the result would only be cut again, after costly copies.
        const size_t room = max_len > s.size() ? (max_len - s.size()) / piece.size() : 0;
        const size_t times = std::min(rng_.one_in(8) ? 1 + rng_.below(2000) : 1, room);
        std::string run;
        for (size_t t = 0; t < times; ++t) run += piece;
        s.insert(rng_.below(s.size() + 1), run);
      }
      break;
    case 6:  // splice: a prefix of this input, a suffix of the other
      if (!other.empty()) s = s.substr(0, rng_.below(s.size() + 1)) + other.substr(pos(other));
      break;
    case 7:    // overwrite an integer field with a boundary value (1, 2, 4 or 8 bytes, LE or BE)
    case 8: {  // or add a small delta to one
      const size_t width = size_t{1} << rng_.below(4);
      if (s.size() < width) break;
      const size_t at = rng_.below(s.size() - width + 1);
      const bool big_endian = rng_.one_in(2);
      uint64_t v = 0;
      for (size_t b = 0; b < width; ++b) {
        const auto byte = static_cast<uint8_t>(s[at + (big_endian ? width - 1 - b : b)]);
        v |= uint64_t{byte} << (8 * b);
      }
      if (kind == 7) {
        v = kInts[rng_.below(kInts.size())];
        if (rng_.one_in(2)) v = ~v + 1;  // the negative
      } else {
        const uint64_t delta = 1 + rng_.below(35);
        v = rng_.one_in(2) ? v + delta : v - delta;
      }
      for (size_t b = 0; b < width; ++b)
        s[at + (big_endian ? width - 1 - b : b)] = static_cast<char>((v >> (8 * b)) & 0xff);
      break;
    }
    case 9:  // truncate
      s.resize(rng_.below(s.size() + 1));
      break;
    case 10:  // insert a dictionary token
    case 11:  // or overwrite with one
      if (!dictionary_.empty()) {
        const std::string& token = dictionary_[rng_.below(dictionary_.size())];
        const size_t at = rng_.below(s.size() + 1);
        if (rng_.one_in(2)) {
          s.insert(at, token);
        } else {
          s.replace(at, std::min(token.size(), s.size() - at), token);
        }
      }
      break;
    case 12: {  // replace a decimal number with a boundary one
      if (s.empty()) break;
      const size_t start = pos(s);
      size_t at = start;
      while (at < s.size() && !std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
      if (at == s.size()) break;
      size_t end = at;
      while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.' ||
                                s[end] == 'e' || s[end] == '-'))
        ++end;
      if (at > 0 && s[at - 1] == '-') --at;
      s.replace(at, end - at, kNumbers[rng_.below(kNumbers.size())]);
      break;
    }
    case 13:  // copy a chunk of the other input over or into this one
      if (!other.empty()) {
        const size_t from = pos(other);
        const std::string piece = other.substr(from, chunk_len(other.size() - from));
        const size_t at = rng_.below(s.size() + 1);
        if (rng_.one_in(2)) {
          s.insert(at, piece);
        } else {
          s.replace(at, std::min(piece.size(), s.size() - at), piece);
        }
      }
      break;
    default:  // swap two bytes
      if (s.size() >= 2) std::swap(s[pos(s)], s[pos(s)]);
      break;
  }
}

}  // namespace fusenas::fuzz
