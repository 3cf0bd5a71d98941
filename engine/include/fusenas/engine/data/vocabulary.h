// Vocabulary: tokens of a text corpus and their int64 ids, in first-seen order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fusenas::data {

// Ids are handed out in the order tokens are first added, as the Dictionary of AWD-LSTM's and
// DARTS's data.py does (add_word: a new word gets id len(idx2word)).
class Vocabulary {
 public:
  // The token's id, adding it at the end when it is new.
  int64_t add(std::string_view token);
  // The token's id, or nullopt when it was never added.
  std::optional<int64_t> find(std::string_view token) const;
  bool contains(std::string_view token) const { return find(token).has_value(); }
  // The token of an id; throws fusenas::Error outside [0, size()).
  const std::string& token(int64_t id) const;
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  // Transparent hashing lets a std::string_view look a token up without building a string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> ids_;
};

}  // namespace fusenas::data
