// SIGINT/SIGTERM to a polled flag; a second signal falls through to the default action.
#include "fusenas/nas/run/stop_signal.h"

#include <csignal>

namespace fusenas::nas {
namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_old_int, g_old_term;
// Live StopSignals: a search holds one across its trials and each trial's run holds another, so
// only the outermost installs the handlers, restores the old ones and starts with a clear flag
// (an inner one must not forget a signal that came between two trials).
int g_depth = 0;

void on_signal(int sig) {
  if (g_signal != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
}

}  // namespace

StopSignal::StopSignal() {
  if (g_depth++ > 0) return;
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignal::~StopSignal() {
  if (--g_depth > 0) return;
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignal::requested() const {
  return g_signal != 0;
}
int StopSignal::signal_number() const {
  return g_signal;
}
void StopSignal::raise_for_test() {
  g_signal = SIGTERM;
}

}  // namespace fusenas::nas
