// fusenas::Error and the FUSENAS_CHECK macro every layer uses to report bad input or broken
// invariants.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace fusenas {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace fusenas

// Throws fusenas::Error with a formatted message and the file:line of the check.
#define FUSENAS_CHECK(cond, ...)                                                      \
  do {                                                                                \
    if (!(cond)) [[unlikely]] {                                                       \
      ::fusenas::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
    }                                                                                 \
  } while (0)

#define FUSENAS_FAIL(...) \
  ::fusenas::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__))
