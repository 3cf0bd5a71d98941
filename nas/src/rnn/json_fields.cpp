// Strict JSON field readers for the recurrent architectures.
#include "rnn/json_fields.h"

#include <climits>

#include "fusenas/engine/error.h"

namespace fusenas::nas::rnn::detail {

// Every recurrent architecture prints in well under this; a larger text is refused unread.
constexpr size_t kMaxJsonBytes = 64 * 1024;

nlohmann::json parse_object(const std::string& text, std::string_view what) {
  FUSENAS_CHECK(text.size() <= kMaxJsonBytes, "{} JSON has {} bytes; the limit is {}", what,
                text.size(), kMaxJsonBytes);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("malformed {} JSON: {}", what, e.what());
  }
  FUSENAS_CHECK(j.is_object(), "malformed {} JSON: expected an object, got {}", what,
                j.type_name());
  return j;
}

void require_keys(const nlohmann::json& object, std::initializer_list<std::string_view> keys,
                  std::string_view what) {
  for (const std::string_view key : keys) {
    FUSENAS_CHECK(object.contains(std::string(key)), "malformed {} JSON: the key '{}' is missing",
                  what, key);
  }
  for (const auto& item : object.items()) {
    bool known = false;
    for (const std::string_view key : keys) known = known || item.key() == key;
    FUSENAS_CHECK(known, "malformed {} JSON: unknown key '{}'", what, item.key());
  }
}

int int_field(const nlohmann::json& value, std::string_view what) {
  bool fits = false;
  if (value.is_number_unsigned()) {
    fits = value.get<uint64_t>() <= INT_MAX;
  } else if (value.is_number_integer()) {
    const int64_t i = value.get<int64_t>();
    fits = i >= INT_MIN && i <= INT_MAX;
  }
  FUSENAS_CHECK(fits, "malformed JSON: {} must be an integer, got {}", what, value.dump());
  return value.get<int>();
}

std::string string_field(const nlohmann::json& value, std::string_view what) {
  FUSENAS_CHECK(value.is_string(), "malformed JSON: {} must be a string, got {}", what,
                value.dump());
  return value.get<std::string>();
}

}  // namespace fusenas::nas::rnn::detail
