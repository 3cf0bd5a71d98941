// Flag checks every app shares: seeds that cannot wrap, thread counts bounded by the cores,
// counts that must be positive, and --version with the git commit.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace fusenas::apps {

// A decimal integer in [0, 2^64 - 1]: CLI11 would turn "-1" and "18446744073709551616" silently
// into 18446744073709551615.
CLI::Validator seed_check();
// An integer in [lo, hi], with a message that states the range (CLI11's PositiveNumber names
// DBL_MAX as its upper bound).
CLI::Validator int_range_check(long long lo, long long hi);
// --threads: 0 (all cores) or more; a count above the cores is lowered to them with a warning
// on stderr, since oversubscribed OpenMP threads made steps 27x slower.
int usable_threads(int requested, const std::string& app);
// --resume's checks, where it was given: a run folder, and none of `config_flags` (the saved
// config decides a resumed run, so a changed hyperparameter would silently not apply). Returns 0,
// or prints why to stderr and returns 2 (bad flags).
int check_resume_flags(const std::string& app, const CLI::Option& resume,
                       const std::string& resume_dir,
                       const std::vector<const CLI::Option*>& config_flags);
// --version: "<app> <version> (git <commit>)".
void add_version_flag(CLI::App& app, const std::string& name);
std::string version_line(const std::string& name);
// "<version line>; host: <host name>; cpu: <model>; command: <argv, shell-quoted where needed>",
// for RunOptions::invocation; host and cpu are left out where unknown (nas_report reads them).
std::string invocation_line(const std::string& name, int argc, char** argv);

}  // namespace fusenas::apps
