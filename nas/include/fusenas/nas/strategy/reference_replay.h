// The "reference" strategy: replays the candidates of an earlier search's done trials, in trial-id
// order, so the same architectures can be scored again by another estimator or fidelity.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/strategy/strategy.h"

namespace fusenas::nas::strategy {

// What a replay reads from a nas_search run folder: its config.json and its trial database.
struct ReferenceRun {
  std::string dir;
  std::string space;       // the trial database's space name ("joint(chain+hp)" with hpo joint)
  std::string arch_space;  // config.json's "space"
  nlohmann::json space_options;          // config.json's "space_options", as written
  std::string hpo;                       // config.json's "hpo"
  std::vector<int64_t> trial_ids;        // of the done trials, in id order
  std::vector<space::Point> candidates;  // their candidates (architecture, hp when joint)
};

// Throws fusenas::Error with one sentence for a missing folder, config.json or trial database, a
// reference tuned with --hpo after (its later candidates are hyperparameters alone), and a
// reference with no done trial.
ReferenceRun read_reference_run(const std::string& dir);

// Asks exactly the reference's candidates, the i-th ask the i-th done trial's (also after a resume,
// which sets asked()); tell() only keeps the history. One ask more than the reference holds is an
// error: a search's budget is capped at the reference's trials (nas_search does that).
class ReferenceReplay : public Strategy {
 public:
  // Refuses a reference of another space, other space options (compared after filling in the
  // defaults, so {} equals the defaults written out) or another hpo mode, and any reference
  // candidate that is not a point of `space`. The seed is unused: a replay draws nothing.
  ReferenceReplay(const space::Space& space, uint64_t seed, const std::string& reference_dir);
  std::string name() const override { return "reference"; }
  const ReferenceRun& reference() const { return reference_; }

 protected:
  space::Point propose(Generator& gen) override;

 private:
  ReferenceRun reference_;
};

}  // namespace fusenas::nas::strategy
