// Global (thread-local) switch for recording autograd history, and the RAII guard that turns it
// off.
#pragma once

namespace fusenas {

bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace fusenas
