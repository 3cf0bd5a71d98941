// Weight inheritance for nas_search (--estimator morphism): regularized evolution whose children
// are network morphisms of a trained parent (space/morphism.h), so a child starts from its
// parent's weights instead of from scratch (Real et al. 2017; Elsken et al. 2019).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/space/morphism.h"
#include "fusenas/nas/space/space.h"
#include "fusenas/nas/strategy/evolution.h"

namespace fusenas::nas {

// What one trial of a morphism search trains.
struct MorphPlan {
  space::Point candidate;
  std::optional<int64_t> parent;  // the trial whose trained weights the child inherits
  std::optional<space::Morphism> morphism;
};

class MorphEvolution {
 public:
  // `space` must be a chain or multibranch space (the spaces with morphisms); throws otherwise.
  MorphEvolution(std::shared_ptr<space::ArchSpace> space, strategy::EvolutionOptions options,
                 uint64_t seed);

  // Trial `id`'s plan, from the trials before it: the first P trials sample the space; later
  // ones pick a parent by a tournament of S among the last P done trials and apply one of its
  // morphisms, chosen at random (a parent without any tries the next best; none: a sample). A
  // pure function of the seed, the id and the earlier trials, so a resume plans the same.
  MorphPlan plan(int64_t id, const std::vector<Trial>& earlier) const;

  // The plan as the trial's fidelity stores it ({"parent": id, "morphism": {...}}), and back.
  static nlohmann::json plan_json(const MorphPlan& p);
  static MorphPlan from_trial(const Trial& t);

  // The network trial `t` trains: a child built from its parent's network, whose trained weights
  // `parent_weights` (a weights_file) holds, through the plan's morphism; a fresh network of the
  // candidate when it has no parent. `gen` draws the fresh weights and Net2Net's filter copies.
  std::shared_ptr<space::Network> build(const Trial& t, const Trial* parent,
                                        const std::string& parent_weights,
                                        const space::ImageShape& shape, Generator& gen) const;

  // Where a trial's trained weights are kept in the run folder.
  static std::string weights_file(const std::string& run_dir, int64_t trial_id);

 private:
  std::vector<space::Morphism> morphisms_of(const space::Point& p) const;
  space::Point morph(const space::Point& p, const space::Morphism& m) const;

  std::shared_ptr<space::ArchSpace> space_;
  strategy::EvolutionOptions options_;
  uint64_t seed_;
};

}  // namespace fusenas::nas
