// A progress bar on stderr with throughput and ETA.
#include "fusenas/nas/run/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace fusenas::nas {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

bool Progress::due(int64_t done) const {
  if (done >= total_) return true;
  if (tty_) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count() >=
           0.2;
  }
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  return static_cast<int>(frac * 10) != last_decile_;
}

void Progress::update(int64_t done, int64_t items, const std::string& note) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double rate = elapsed > 0 ? static_cast<double>(items) / elapsed : 0.0;
  const double eta =
      done > 0 ? elapsed * (static_cast<double>(total_ - done) / static_cast<double>(done)) : 0.0;
  if (tty_) {
    if (done < total_ && std::chrono::duration<double>(now - last_draw_).count() < 0.2) return;
    last_draw_ = now;
    const int width = 24;
    const int filled = static_cast<int>(frac * width);
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}% {}/{} {:.0f} {}/s ETA {} {}\033[K", label_,
               std::string(filled, '#'), std::string(width - filled, '.'), 100 * frac, done, total_,
               rate, unit_, format_duration(eta), note);
  } else {
    const int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    fmt::print(stderr, "{} {:3.0f}% {}/{} {:.0f} {}/s ETA {} {}\n", label_, 100 * frac, done,
               total_, rate, unit_, format_duration(eta), note);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (tty_) fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace fusenas::nas
