// Vocabulary: first-seen-order token ids.
#include "fusenas/engine/data/vocabulary.h"

#include "fusenas/engine/error.h"

namespace fusenas::data {

int64_t Vocabulary::add(std::string_view token) {
  if (const auto it = ids_.find(token); it != ids_.end()) return it->second;
  const int64_t id = size();
  tokens_.emplace_back(token);
  ids_.emplace(tokens_.back(), id);
  return id;
}

std::optional<int64_t> Vocabulary::find(std::string_view token) const {
  const auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string& Vocabulary::token(int64_t id) const {
  FUSENAS_CHECK(id >= 0 && id < size(), "vocabulary: id {} is outside [0, {})", id, size());
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace fusenas::data
