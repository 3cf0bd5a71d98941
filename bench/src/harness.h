// Bench harness: cases with a C++ runner and a JSON description a PyTorch peer can replay, timed
// the same way on both sides (warm-up, then the median of timed repetitions).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fusenas::bench {

struct Timing {
  double median_ms = 0;
  double min_ms = 0;
  int iterations = 0;
};

struct BenchCase {
  std::string name;     // e.g. "dwconv3x3 s1"
  std::string shape;    // human-readable input shape
  nlohmann::json spec;  // what the peer script needs to rebuild the case
  // Builds inputs and returns the function to time (run once per iteration).
  std::function<std::function<void()>()> prepare;
};

struct Options {
  int warmup = 3;
  int iterations = 10;
  double min_seconds = 0.3;  // keep iterating up to this long for stable medians
};

// Times fn after warm-up; the clock covers whole calls only.
Timing time_it(const std::function<void()>& fn, const Options& options);

// The Python that runs the peers: $FUSENAS_TORCH_PYTHON when set, else the configured one.
std::string torch_python();

// Runs the peer script `script` on `cases` (their spec fields) and returns its JSON answer:
// {"results": [{"median_ms": ...}, ...], "torch": "version"}. Empty object when it fails.
nlohmann::json run_peer(const std::string& script, const std::vector<BenchCase>& cases,
                        const Options& options, int threads, const std::string& device);

}  // namespace fusenas::bench
