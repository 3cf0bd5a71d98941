// Strict JSON accessors for points and options.
#include "space/json_read.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas::space::detail {

std::string describe(const Json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return Json(s.size() <= 40 ? s : s.substr(0, 37) + "...").dump();
  }
  if (v.is_array()) return fmt::format("an array of {}", v.size());
  if (v.is_object()) return "an object";
  // dump() would print a non-finite float (built in code, never parsed) as null.
  if (v.is_number_float() && !std::isfinite(v.get<double>()))
    return fmt::format("{}", v.get<double>());
  return v.dump();  // a number, a boolean or null: short and flat
}

std::string member(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

std::string element(const std::string& where, size_t i) {
  return fmt::format("{}[{}]", where, i);
}

void JsonReader::fail(const std::string& where, const std::string& rule) const {
  FUSENAS_FAIL("{}: {} {}", what_, where.empty() ? top_ : where, rule);
}

void JsonReader::object(const Json& v, const std::string& where,
                        std::initializer_list<const char*> required,
                        std::initializer_list<const char*> optional) const {
  if (!v.is_object()) fail(where, fmt::format("must be an object, got {}", describe(v)));
  for (const char* key : required) {
    if (!v.contains(key)) fail(where, fmt::format("is missing the key '{}'", key));
  }
  for (const auto& [key, value] : v.items()) {
    const auto is = [&](const char* k) { return key == k; };
    if (std::none_of(required.begin(), required.end(), is) &&
        std::none_of(optional.begin(), optional.end(), is)) {
      const std::string quoted = Json(key.size() <= 40 ? key : key.substr(0, 37) + "...").dump();
      fail(where, fmt::format("has the unknown key {}", quoted));
    }
  }
}

void JsonReader::array(const Json& v, const std::string& where, size_t min, size_t max) const {
  if (!v.is_array()) fail(where, fmt::format("must be an array, got {}", describe(v)));
  if (v.size() < min || v.size() > max) {
    fail(where, min == max ? fmt::format("must have exactly {} entries, got {}", min, v.size())
                           : fmt::format("must have {} to {} entries, got {}", min, max, v.size()));
  }
}

int64_t JsonReader::integer(const Json& v, const std::string& where, int64_t min,
                            int64_t max) const {
  const auto out_of_range = [&] {
    fail(where, fmt::format("must be an integer in [{}, {}], got {}", min, max, describe(v)));
  };
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (max < 0 || u > static_cast<uint64_t>(max)) out_of_range();
    const auto i = static_cast<int64_t>(u);
    if (i < min) out_of_range();
    return i;
  }
  if (!v.is_number_integer()) out_of_range();
  const int64_t i = v.get<int64_t>();
  if (i < min || i > max) out_of_range();
  return i;
}

double JsonReader::number(const Json& v, const std::string& where, double min, double max) const {
  // NaN fails both comparisons, so it is refused with the rest.
  const double x = v.is_number() ? v.get<double>() : std::nan("");
  if (!(std::isfinite(x) && x >= min && x <= max)) {
    fail(where, fmt::format("must be a number in [{}, {}], got {}", min, max, describe(v)));
  }
  return x;
}

bool JsonReader::boolean(const Json& v, const std::string& where) const {
  if (!v.is_boolean()) fail(where, fmt::format("must be true or false, got {}", describe(v)));
  return v.get<bool>();
}

std::string JsonReader::string(const Json& v, const std::string& where) const {
  if (!v.is_string()) fail(where, fmt::format("must be a string, got {}", describe(v)));
  return v.get<std::string>();
}

int64_t JsonReader::choice(const Json& v, const std::string& where,
                           const std::vector<int64_t>& choices) const {
  const bool ok = v.is_number_integer() &&
                  std::find(choices.begin(), choices.end(), v.get<int64_t>()) != choices.end();
  if (!ok)
    fail(where, fmt::format("must be one of {}, got {}", fmt::join(choices, ", "), describe(v)));
  return v.get<int64_t>();
}

std::vector<int64_t> JsonReader::integers(const Json& v, const std::string& where, size_t max_count,
                                          int64_t min, int64_t max) const {
  array(v, where, 1, max_count);
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(integer(v[i], element(where, i), min, max));
  return out;
}

std::vector<bool> JsonReader::bits(const Json& v, const std::string& where, size_t n) const {
  if (!v.is_array() || v.size() != n) {
    fail(where, fmt::format("must be an array of {} entries (one per earlier layer), got {}", n,
                            describe(v)));
  }
  std::vector<bool> out;
  for (size_t j = 0; j < n; ++j) {
    const Json& s = v[j];
    const bool bit = s.is_boolean() || (s.is_number_integer() && (s == 0 || s == 1));
    if (!bit) fail(element(where, j), fmt::format("must be 0 or 1, got {}", describe(s)));
    out.push_back(s.is_boolean() ? s.get<bool>() : s == 1);
  }
  return out;
}

}  // namespace fusenas::nas::space::detail
