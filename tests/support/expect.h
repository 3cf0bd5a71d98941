// Small gtest expectations the tests share: an error whose message names what it should (or the
// message itself), and a tensor's values.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::testing {

// Expects `fn` to throw a fusenas::Error whose message contains every string in `parts`.
template <typename F>
void expect_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
}

// The message of the fusenas::Error `fn` throws, or "no error".
template <typename F>
std::string message_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

inline void expect_values(const Tensor& t, const std::vector<double>& expected,
                          double tol = 1e-12) {
  const auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}

}  // namespace fusenas::testing
