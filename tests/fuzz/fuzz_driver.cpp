// The fuzz driver (main of every fuzz_<target>): regression inputs first, then a seeded mutation
// loop over the target's seeds and corpus for a time or exec budget. An input that crashes (a
// sanitizer report, a signal), hangs, or lets anything but fusenas::Error escape is a finding:
// it is saved under --artifacts and its path printed.
#include <cxxabi.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <typeinfo>
#include <unordered_set>
#include <vector>

#include "fuzz_driver.h"
#include "fuzz_files.h"
#include "fuzz_target.h"
#include "mutator.h"

#if __has_include(<sanitizer/common_interface_defs.h>) && defined(FUSENAS_SANITIZED)
#include <sanitizer/common_interface_defs.h>
#define FUSENAS_FUZZ_DEATH_CALLBACK 1
#endif

// A huge allocation from a corrupt size field is a finding, not a machine that swaps: ASan
// reports any single allocation above 2 GiB. A small quarantine lets freed memory be reused soon:
// with the default 256 MB every execution touched fresh pages, and page faults took most of the
// time of the file-reading targets. ASAN_OPTIONS still overrides both.
extern "C" const char* __asan_default_options() {
  return "max_allocation_size_mb=2048:quarantine_size_mb=8";
}

namespace {

using Clock = std::chrono::steady_clock;
namespace fz = fusenas::fuzz;

struct Options {
  std::string name;
  uint64_t runs = 0;    // 0: no exec limit
  double max_time = 0;  // seconds; 0: no time limit
  uint64_t seed = 1;
  size_t max_len = 1 << 16;
  double timeout = 10;      // seconds one execution may take
  bool keep_going = false;  // report every distinct finding instead of stopping at the first
  bool print_outcomes = false;
  std::string artifacts = "fuzz-findings";
  std::vector<std::string> corpus_dirs;
  std::vector<std::string> regression_dirs;
  std::vector<std::string> files;  // reproduce these and stop
};

// Read by the signal paths, so plain globals with no allocation behind them.
const uint8_t* volatile g_input = nullptr;
volatile size_t g_input_size = 0;
char g_artifacts[4096];
std::atomic<int64_t> g_exec_start_ns{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void put(const char* s) {
  const ssize_t ignored = write(STDERR_FILENO, s, std::strlen(s));
  (void)ignored;
}

// Writes the current input to <artifacts>/<kind>-<hash>, async-signal-safely (no allocation), and
// prints the path.
void save_input(const char* kind) {
  const uint8_t* data = g_input;
  const size_t size = g_input_size;
  if (data == nullptr && size != 0) return;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ULL;
  char path[sizeof(g_artifacts) + 64];
  size_t n = 0;
  for (const char* p = g_artifacts; *p != '\0'; ++p) path[n++] = *p;
  path[n++] = '/';
  for (const char* p = kind; *p != '\0'; ++p) path[n++] = *p;
  path[n++] = '-';
  for (int shift = 60; shift >= 0; shift -= 4) path[n++] = "0123456789abcdef"[(h >> shift) & 0xf];
  path[n] = '\0';
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    put("fuzz: cannot save the input under the artifacts folder\n");
    return;
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  close(fd);
  put("fuzz: ");
  put(kind);
  put(": input saved to ");
  put(path);
  put("\n");
}

#ifdef FUSENAS_FUZZ_DEATH_CALLBACK
void on_death() {
  save_input("crash");
}
#endif

void on_abort(int sig) {
  save_input("crash");
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void start_watchdog(double timeout) {
  const auto limit = static_cast<int64_t>(timeout * 1e9);
  std::thread([limit] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const int64_t start = g_exec_start_ns.load();
      if (start != 0 && now_ns() - start > limit) {
        put("fuzz: an execution exceeded --timeout (a hang)\n");
        save_input("timeout");
        _exit(3);
      }
    }
  }).detach();
}

std::string current_exception_type() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  if (t == nullptr) return "unknown";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(t->name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? name.get() : t->name();
}

class Driver {
 public:
  explicit Driver(Options o)
      : o_(std::move(o)), mutator_(o_.seed, fz::dictionary()), start_(Clock::now()) {}

  // Runs `input` once; returns false on a finding.
  bool execute(const std::string& input, bool keep) {
    // An exact-size copy, so ASan flags a read one byte past the input.
    auto buf = std::make_unique<uint8_t[]>(input.size());
    std::memcpy(buf.get(), input.data(), input.size());
    g_input = buf.get();
    g_input_size = input.size();
    g_exec_start_ns.store(now_ns());
    std::string escaped;
    try {
      LLVMFuzzerTestOneInput(buf.get(), input.size());
    } catch (const std::exception& e) {
      escaped = current_exception_type() + ": " + e.what();
    } catch (...) {
      escaped = current_exception_type();
    }
    g_exec_start_ns.store(0);
    ++execs_;
    bool fresh = false;
    for (const fz::Note& n : fz::take_notes()) {
      if (!outcomes_.insert(n.hash).second) continue;
      fresh = true;
      if (o_.print_outcomes) std::printf("%s: new outcome: %s\n", o_.name.c_str(), n.text.c_str());
    }
    if (fresh && keep && corpus_bytes_ < (size_t{64} << 20)) {
      corpus_.push_back(input);
      corpus_bytes_ += input.size();
    }
    if (!escaped.empty()) {
      report(escaped);
      g_input = nullptr;
      g_input_size = 0;
      return false;
    }
    g_input = nullptr;
    g_input_size = 0;
    return true;
  }

  void report(const std::string& escaped) {
    // One finding per kind of message: numbers, quoted values and anything after a '[' or '/'
    // (std::filesystem errors end with the path the input chose) aside.
    fz::note(std::string_view(escaped).substr(0, escaped.find_first_of("[/")));
    if (!findings_.insert(fz::take_notes().back().hash).second) return;
    const std::string shown = escaped.size() > 400 ? escaped.substr(0, 400) + "..." : escaped;
    std::fprintf(stderr, "%s: FINDING: an exception other than fusenas::Error escaped: %s\n",
                 o_.name.c_str(), shown.c_str());
    save_input("uncaught");
  }

  int run() {
    for (const auto& f : o_.files) {
      std::printf("%s: running %s\n", o_.name.c_str(), f.c_str());
      execute(fz::read_bytes(f), false);
    }
    if (!o_.files.empty()) return summary();

    size_t regressions = 0;
    for (const auto& dir : o_.regression_dirs) {
      for (const auto& f : files_in(dir)) {
        ++regressions;
        if (!execute(fz::read_bytes(f), true)) {
          std::fprintf(stderr, "%s: regression input %s fails again\n", o_.name.c_str(), f.c_str());
          if (!o_.keep_going) return summary();
        }
      }
    }
    size_t seeds = 0;
    for (const auto& s : fz::seeds()) {
      ++seeds;
      corpus_.push_back(s);
      if (!execute(s, false) && !o_.keep_going) return summary();
    }
    for (const auto& dir : o_.corpus_dirs) {
      for (const auto& f : files_in(dir)) {
        ++seeds;
        corpus_.push_back(fz::read_bytes(f));
        if (!execute(corpus_.back(), false) && !o_.keep_going) return summary();
      }
    }
    if (corpus_.empty()) corpus_.emplace_back();
    std::printf("%s: %zu regression inputs, %zu seeds, %zu outcomes; fuzzing (seed %llu)\n",
                o_.name.c_str(), regressions, seeds, outcomes_.size(),
                static_cast<unsigned long long>(o_.seed));
    std::fflush(stdout);

    fz::Rng& rng = mutator_.rng();
    uint64_t next_report = 1 << 12;
    for (uint64_t i = 0;; ++i) {
      if (o_.runs != 0 && i >= o_.runs) break;
      if (o_.max_time > 0 && (i & 15) == 0 && seconds() >= o_.max_time) break;
      // A quarter of the time, one of the 16 newest inputs: they reached outcomes just found.
      const size_t n = corpus_.size();
      const size_t base = rng.one_in(4) ? n - 1 - rng.below(std::min<size_t>(n, 16)) : rng.below(n);
      const std::string input = mutator_.mutate(corpus_[base], corpus_[rng.below(n)], o_.max_len);
      if (!execute(input, true) && !o_.keep_going) break;
      if (execs_ >= next_report) {
        progress();
        next_report *= 2;
      }
    }
    return summary();
  }

 private:
  static std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().filename().string()[0] != '.')
        out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void progress() const {
    std::printf("%s: #%llu  %.1f s  %.0f execs/s  corpus %zu  outcomes %zu\n", o_.name.c_str(),
                static_cast<unsigned long long>(execs_), seconds(), execs_ / seconds(),
                corpus_.size(), outcomes_.size());
    std::fflush(stdout);
  }

  int summary() const {
    const double s = seconds();
    std::printf("%s: %llu execs in %.1f s (%.0f execs/s), corpus %zu, %zu outcomes, %zu findings\n",
                o_.name.c_str(), static_cast<unsigned long long>(execs_), s,
                s > 0 ? execs_ / s : 0.0, corpus_.size(), outcomes_.size(), findings_.size());
    std::fflush(stdout);
    return findings_.empty() ? 0 : 1;
  }

  Options o_;
  fz::Mutator mutator_;
  Clock::time_point start_;
  uint64_t execs_ = 0;
  std::vector<std::string> corpus_;
  size_t corpus_bytes_ = 0;
  std::unordered_set<uint64_t> outcomes_;
  std::unordered_set<uint64_t> findings_;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--runs N] [--max-time SECONDS] [--seed N] [--max-len BYTES]\n"
               "          [--timeout SECONDS] [--corpus DIR]... [--regressions DIR]...\n"
               "          [--artifacts DIR] [--keep-going] [--print-outcomes] [INPUT...]\n"
               "Runs the regression inputs, then mutates the seeds and corpus until --runs or\n"
               "--max-time (default 10 s). INPUT files are only reproduced.\n",
               argv0);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  o.name = std::filesystem::path(argv[0]).filename().string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (a == "--runs") {
      o.runs = std::stoull(value());
    } else if (a == "--max-time") {
      o.max_time = std::stod(value());
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--max-len") {
      o.max_len = std::stoull(value());
    } else if (a == "--timeout") {
      o.timeout = std::stod(value());
    } else if (a == "--corpus") {
      o.corpus_dirs.push_back(value());
    } else if (a == "--regressions") {
      o.regression_dirs.push_back(value());
    } else if (a == "--artifacts") {
      o.artifacts = value();
    } else if (a == "--keep-going") {
      o.keep_going = true;
    } else if (a == "--print-outcomes") {
      o.print_outcomes = true;
    } else if (a.starts_with("-")) {
      usage(argv[0]);
    } else {
      o.files.push_back(a);
    }
  }
  if (o.runs == 0 && o.max_time <= 0) o.max_time = 10;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::error_code ec;
  std::filesystem::create_directories(o.artifacts, ec);
  const std::string artifacts = std::filesystem::absolute(o.artifacts, ec).string();
  std::snprintf(g_artifacts, sizeof(g_artifacts), "%s", artifacts.c_str());
#ifdef FUSENAS_FUZZ_DEATH_CALLBACK
  __sanitizer_set_death_callback(on_death);
#else
  // Without a sanitizer nobody else reports a wild access: save the input on the signal too.
  std::signal(SIGSEGV, on_abort);
  std::signal(SIGBUS, on_abort);
#endif
  std::signal(SIGABRT, on_abort);
  std::signal(SIGFPE, on_abort);
  start_watchdog(o.timeout);
  const int rc = Driver(o).run();
  fz::remove_scratch_dir();
  return rc;
}
