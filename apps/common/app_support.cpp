// Shared start-up and error formatting of the command-line apps.
#include "app_support.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

namespace fusenas::apps {

std::string one_line(const std::string& message) {
  static const std::regex where(R"( \[[^\[\]]+\.(cpp|h|cu):[0-9]+\])");
  std::string s = std::regex_replace(message, where, "");
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void tune_process(char** argv, OmpWaiting waiting) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    if (waiting == OmpWaiting::kPassive) {
      ::setenv("OMP_WAIT_POLICY", "passive", 1);
    } else {
      ::setenv("GOMP_SPINCOUNT", "30000", 1);
    }
    ::setenv(kWaitMarker, "1", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: carry on with spinning threads
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace fusenas::apps
