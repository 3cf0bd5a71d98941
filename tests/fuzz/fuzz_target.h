// The contract between a fuzz target and the driver: libFuzzer's entry point, the seeds and
// dictionary each target supplies, and the hooks a target calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/error.h"

// One execution. Defined by each target; the libFuzzer signature, so a clang -fsanitize=fuzzer
// build could link the same file.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fusenas::fuzz {

// Small valid inputs (written by code, so they follow the format as it changes) that the
// mutations start from, beside any files in tests/fuzz/corpus/<target>/.
std::vector<std::string> seeds();
// Tokens the mutator inserts: keys, op names, magic numbers.
std::vector<std::string> dictionary();

// Records an outcome of this execution. Without coverage instrumentation (GCC builds the
// libraries) the driver keeps an input when it reaches an outcome (a rejection's message with
// numbers and quoted values removed) not seen before: each message marks a distinct check.
void note(std::string_view outcome);

// A folder private to this process, for readers that take a path.
const std::string& scratch_dir();

// Runs `parse`: a fusenas::Error is the clean rejection and only noted; anything else escapes to
// the driver (or libFuzzer) as a finding.
template <typename F>
int run_parser(F&& parse) {
  try {
    parse();
    note("ok");
  } catch (const fusenas::Error& e) {
    note(e.what());
  }
  return 0;
}

// A property of a successful parse (a round trip, a size): breaking it is a finding, so it throws
// something other than fusenas::Error.
inline void expect(bool holds, const char* property) {
  if (!holds) throw std::logic_error(std::string("fuzz property broken: ") + property);
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fusenas::fuzz
