// Whether an app's command line is a language-model one (--task lm, or --resume of an LM run
// folder), which nas_train and nas_darts hand to their LM modes with their own flags.
#pragma once

#include <string>

#include "fusenas/nas/train/lm_trainer.h"

namespace fusenas::apps {

inline bool is_lm_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string next = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--task=lm" || (a == "--task" && next == "lm")) return true;
    if (a.rfind("--resume=", 0) == 0 && nas::is_lm_run(a.substr(9))) return true;
    if (a == "--resume" && !next.empty() && nas::is_lm_run(next)) return true;
  }
  return false;
}

}  // namespace fusenas::apps
