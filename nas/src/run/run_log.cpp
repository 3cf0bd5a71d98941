// The human log of a run: timestamped lines appended to the run's log file, echoed to stdout.
#include "fusenas/nas/run/run_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "fusenas/engine/error.h"

namespace fusenas::nas {

std::string run_log_file(const std::string& kind) {
  return kind == "train" ? "train.log" : "search.log";
}

void RunLog::line(const std::string& text) const {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  const std::string stamped = fmt::format("{:%Y-%m-%d %H:%M:%S} {}\n", fmt::localtime(now), text);
  {
    // Appended and closed per line, so the log survives a crash up to its last line.
    std::ofstream out(run_.file(file_), std::ios::app);
    out << stamped;
    FUSENAS_CHECK(out.good(), "cannot write {}", run_.file(file_));
  }
  if (echo_) {
    fmt::print("{}\n", text);
    std::fflush(stdout);
  }
}

}  // namespace fusenas::nas
