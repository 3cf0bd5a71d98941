// Strict reading of points and options from JSON that may come from anywhere (a trial database, a
// hand-written file, a fuzzer): every accessor checks the type and range before converting, and
// its message names the space, the field and the rule.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace fusenas::nas::space::detail {

using Json = nlohmann::json;

// A value as a message may quote it: scalars printed (long strings cut), containers by type only,
// so a hostile document never ends up in a message (or recursed into) whole.
std::string describe(const Json& v);

// `what` prefixes every message ("chain", "hp options"); `where` is the field's path
// ("layers[2].kernel").
class JsonReader {
 public:
  // `top` names the document itself in messages: "the point", or "the object" for options.
  explicit JsonReader(std::string what, std::string top = "the point")
      : what_(std::move(what)), top_(std::move(top)) {}

  // An object holding every key of `required`, any of `optional`, and nothing else.
  void object(const Json& v, const std::string& where, std::initializer_list<const char*> required,
              std::initializer_list<const char*> optional = {}) const;
  // An array of min..max entries.
  void array(const Json& v, const std::string& where, size_t min, size_t max) const;
  // JSON integers only (no 3.0, no true): get<int>() would silently truncate or wrap.
  int64_t integer(const Json& v, const std::string& where, int64_t min, int64_t max) const;
  // Any finite JSON number within [min, max].
  double number(const Json& v, const std::string& where, double min, double max) const;
  bool boolean(const Json& v, const std::string& where) const;
  // One of `choices` (a JSON integer).
  int64_t choice(const Json& v, const std::string& where,
                 const std::vector<int64_t>& choices) const;
  // An array of 1..max_count integers, each within [min, max] (an option's list of choices).
  std::vector<int64_t> integers(const Json& v, const std::string& where, size_t max_count,
                                int64_t min, int64_t max) const;
  // An array of exactly n connection bits, each 0, 1, true or false (a layer's skips).
  std::vector<bool> bits(const Json& v, const std::string& where, size_t n) const;
  std::string string(const Json& v, const std::string& where) const;

  [[noreturn]] void fail(const std::string& where, const std::string& rule) const;
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::string top_;
};

// "where.key", or "key" at the top.
std::string member(const std::string& where, const std::string& key);
// "where[i]"
std::string element(const std::string& where, size_t i);

}  // namespace fusenas::nas::space::detail
