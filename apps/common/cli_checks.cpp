// The shared flag checks and the version line.
#include "cli_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <thread>

#ifndef FUSENAS_VERSION
#define FUSENAS_VERSION "unknown"
#endif
#ifndef FUSENAS_GIT_COMMIT
#define FUSENAS_GIT_COMMIT "unknown"
#endif

namespace fusenas::apps {
namespace {

// The whole string as a decimal integer of type T, or nothing.
template <typename T>
bool parse_whole(const std::string& s, T& value) {
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  return ec == std::errc() && ptr == end && !s.empty();
}

}  // namespace

CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        uint64_t v = 0;
        if (s.empty() || s[0] == '-' || s[0] == '+' || !parse_whole(s, v))
          return fmt::format("seed must be an integer in [0, {}], got {}", UINT64_MAX, s);
        return "";
      },
      "UINT64");
}

CLI::Validator int_range_check(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        long long v = 0;
        if (!parse_whole(s, v) || v < lo || v > hi)
          return fmt::format("must be an integer in [{}, {}], got {}", lo, hi, s);
        return "";
      },
      fmt::format("INT in [{} - {}]", lo, hi));
}

int usable_threads(int requested, const std::string& app) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (requested <= cores) return requested;
  fmt::print(stderr, "{}: warning: --threads {} is more than the {} cores; using {}\n", app,
             requested, cores, cores);
  return cores;
}

std::string version_line(const std::string& name) {
  return fmt::format("{} {} (git {})", name, FUSENAS_VERSION, FUSENAS_GIT_COMMIT);
}

std::string invocation_line(const std::string& name, int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_=./:,+@%") == std::string::npos;
    std::string quoted = "'";
    for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += (i > 0 ? " " : "") + (plain ? arg : quoted + "'");
  }
  return fmt::format("{}; command: {}", version_line(name), command);
}

void add_version_flag(CLI::App& app, const std::string& name) {
  app.set_version_flag("--version", version_line(name), "Print the version and git commit");
}

}  // namespace fusenas::apps
