// Strict JSON field readers the recurrent architectures' from_json functions share (private).
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace fusenas::nas::rnn::detail {

// Parses `text` as one JSON object, or throws fusenas::Error naming `what` and the parser's reason.
nlohmann::json parse_object(const std::string& text, std::string_view what);
// The object's keys must be exactly `keys` (any order): a misspelt key is refused, not ignored.
void require_keys(const nlohmann::json& object, std::initializer_list<std::string_view> keys,
                  std::string_view what);
// A JSON integer that fits an int: 1.5, true or 2^40 are refused, not cast.
int int_field(const nlohmann::json& value, std::string_view what);
std::string string_field(const nlohmann::json& value, std::string_view what);

}  // namespace fusenas::nas::rnn::detail
