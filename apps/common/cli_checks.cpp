// The shared flag checks, the version line and the invocation line (version, machine, command).
#include "cli_checks.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
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

// Text safe inside the invocation line's "; "-separated fields: no separators, no line breaks.
std::string field_text(std::string s) {
  for (char& c : s)
    if (c == ';' || c == '\n' || c == '\r') c = ',';
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return field_text(name);
}

// /proc/cpuinfo's first "model name" (x86; other CPUs name it otherwise or not at all).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    return colon == std::string::npos ? "" : field_text(line.substr(colon + 1));
  }
  return "";
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

int check_resume_flags(const std::string& app, const CLI::Option& resume,
                       const std::string& resume_dir,
                       const std::vector<const CLI::Option*>& config_flags) {
  if (resume.count() == 0) return 0;
  if (resume_dir.empty()) {
    // An unset shell variable must not quietly start a new run.
    fmt::print(stderr, "{}: --resume needs a run folder, got an empty path\n", app);
    return 2;
  }
  for (const CLI::Option* opt : config_flags) {
    if (opt->count() > 0) {
      fmt::print(stderr,
                 "{}: {} cannot be combined with --resume (the run keeps its saved config; only "
                 "--device and --threads may change)\n",
                 app, opt->get_name());
      return 2;
    }
  }
  return 0;
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
  // The machine goes before the command, which is last since it may hold any text.
  std::string machine;
  if (const std::string host = host_name(); !host.empty()) machine += "; host: " + host;
  if (const std::string cpu = cpu_model(); !cpu.empty()) machine += "; cpu: " + cpu;
  return fmt::format("{}{}; command: {}", version_line(name), machine, command);
}

void add_version_flag(CLI::App& app, const std::string& name) {
  app.set_version_flag("--version", version_line(name), "Print the version and git commit");
}

}  // namespace fusenas::apps
