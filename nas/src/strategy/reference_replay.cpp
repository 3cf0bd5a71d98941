// The reference strategy: reads a reference run (config.json, trials.sqlite), checks that it was
// searched in the same space with the same options, and hands its done trials' candidates out in
// order.
#include "fusenas/nas/strategy/reference_replay.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/zoph_le_space.h"

namespace fusenas::nas::strategy {
namespace {

std::string text_field(const nlohmann::json& config, const char* key, const std::string& fallback) {
  const auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A space's options with every default written out, so that two spaces built from differently
// spelled but equal options compare equal. Null for a space this does not know (then only the
// names are compared).
nlohmann::json full_options(const space::Space& s) {
  if (const auto* c = dynamic_cast<const space::ChainSpace*>(&s)) return c->options().to_json();
  if (const auto* d = dynamic_cast<const space::DartsCellSpace*>(&s)) return d->options().to_json();
  if (const auto* m = dynamic_cast<const space::MultiBranchSpace*>(&s))
    return m->options().to_json();
  if (const auto* z = dynamic_cast<const space::ZophLeSpace*>(&s)) return z->options().to_json();
  if (const auto* h = dynamic_cast<const space::HpSpace*>(&s)) return h->options().to_json();
  if (const auto* j = dynamic_cast<const space::JointSpace*>(&s))
    return {{"arch", full_options(j->arch_space())}, {"hp", full_options(j->hp_space())}};
  return nullptr;
}

}  // namespace

ReferenceRun read_reference_run(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  FUSENAS_CHECK(!dir.empty(), "the reference strategy needs a reference run folder (--reference)");
  FUSENAS_CHECK(fs::is_directory(dir, ec), "reference run folder {} does not exist", dir);
  const std::string db_path = (fs::path(dir) / TrialDb::kFile).string();
  FUSENAS_CHECK(fs::exists(db_path, ec),
                "reference run folder {} holds no {} (it must be a nas_search run folder)", dir,
                TrialDb::kFile);
  const std::string config_path = (fs::path(dir) / "config.json").string();
  std::ifstream in(config_path, std::ios::binary);
  FUSENAS_CHECK(in.good(),
                "reference run folder {} holds no config.json to check its space against", dir);
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  FUSENAS_CHECK(config.is_object(), "{} is not a JSON object", config_path);

  ReferenceRun r;
  r.dir = dir;
  const TrialDb db = TrialDb::open(db_path);
  r.space = db.identity().space;
  r.arch_space = text_field(config, "space", r.space);
  r.space_options = config.value("space_options", nlohmann::json::object());
  r.hpo = text_field(config, "hpo", "off");
  // Under --hpo after the tuning stage's candidates are hyperparameters of one architecture, not
  // architectures: replaying them in an architecture search would be meaningless.
  FUSENAS_CHECK(r.hpo != "after",
                "reference run {} tuned its hyperparameters with --hpo after; replay a reference "
                "searched with --hpo off or joint",
                dir);
  for (const Trial& t : db.trials()) {
    if (t.status != TrialStatus::kDone) continue;
    r.trial_ids.push_back(t.id);
    r.candidates.push_back(t.candidate);
  }
  FUSENAS_CHECK(!r.candidates.empty(), "reference run {} has no done trial to replay ({} in all)",
                dir, db.count());
  return r;
}

ReferenceReplay::ReferenceReplay(const space::Space& space, uint64_t seed,
                                 const std::string& reference_dir)
    : Strategy(space, seed), reference_(read_reference_run(reference_dir)) {
  const ReferenceRun& r = reference_;
  FUSENAS_CHECK(r.space == space.name(),
                "reference run {} searched the space '{}' (hpo {}), this search '{}'; replay a "
                "reference of the same space and hpo mode",
                r.dir, r.space, r.hpo, space.name());
  // Building the reference's space from its config.json fills in the defaults its options left
  // out; a joint reference tuned the default hyperparameter space, as every search does.
  std::shared_ptr<const space::Space> theirs =
      space::make_arch_space(r.arch_space, r.space_options);
  if (r.hpo == "joint")
    theirs = std::make_shared<space::JointSpace>(
        std::static_pointer_cast<const space::ArchSpace>(theirs),
        std::make_shared<space::HpSpace>());
  const nlohmann::json want = full_options(space), have = full_options(*theirs);
  FUSENAS_CHECK(want == have,
                "reference run {} searched the {} space with the options {}, this search with {}; "
                "replay a reference of the same space options",
                r.dir, r.arch_space, have.dump(), want.dump());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    try {
      space.validate(r.candidates[i]);
    } catch (const Error& e) {
      FUSENAS_FAIL("reference run {}: trial {}'s candidate is not a point of the space '{}': {}",
                   r.dir, r.trial_ids[i], space.name(), e.what());
    }
  }
}

space::Point ReferenceReplay::propose(Generator&) {
  const int64_t n = static_cast<int64_t>(reference_.candidates.size());
  FUSENAS_CHECK(asked() < n,
                "reference run {} has {} done trials to replay, and trial {} asks for one more "
                "(the budget is capped at the reference's trials)",
                reference_.dir, n, asked() + 1);
  return reference_.candidates[static_cast<size_t>(asked())];
}

}  // namespace fusenas::nas::strategy
