// Regularized evolution over network morphisms: plans (parent and morphism per trial), their form
// in the trial database, and the child network built from the parent's trained weights.
#include "morph_evolution.h"

#include <fmt/format.h>

#include <algorithm>

#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/multibranch_space.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kPlanStream = 0x6d6f7270ULL;  // "morp": a trial's parent and morphism

const space::ChainSpace* as_chain(const space::ArchSpace& s) {
  return dynamic_cast<const space::ChainSpace*>(&s);
}
const space::MultiBranchSpace* as_multibranch(const space::ArchSpace& s) {
  return dynamic_cast<const space::MultiBranchSpace*>(&s);
}

space::MorphismKind kind_named(const std::string& name) {
  for (const space::MorphismKind k :
       {space::MorphismKind::kDeepen, space::MorphismKind::kWiden, space::MorphismKind::kAddSkip,
        space::MorphismKind::kGrowKernel})
    if (space::morphism_kind_name(k) == name) return k;
  throw Error(fmt::format("unknown morphism '{}' in the trial database", name));
}

}  // namespace

MorphEvolution::MorphEvolution(std::shared_ptr<space::ArchSpace> space,
                               strategy::EvolutionOptions options, uint64_t seed)
    : space_(std::move(space)), options_(options), seed_(seed) {
  FUSENAS_CHECK(as_chain(*space_) || as_multibranch(*space_),
                "--estimator morphism needs the chain or multibranch space (the spaces with "
                "network morphisms), not {}",
                space_->name());
  options_.validate();
}

std::vector<space::Morphism> MorphEvolution::morphisms_of(const space::Point& p) const {
  if (const auto* chain = as_chain(*space_))
    return space::applicable_morphisms(chain->arch(p), *chain);
  const auto& mb = *as_multibranch(*space_);
  return space::applicable_morphisms(mb.arch(p), mb);
}

space::Point MorphEvolution::morph(const space::Point& p, const space::Morphism& m) const {
  if (const auto* chain = as_chain(*space_))
    return space::to_json(space::morph_arch(chain->arch(p), *chain, m));
  const auto& mb = *as_multibranch(*space_);
  return space::MultiBranchSpace::point(space::morph_arch(mb.arch(p), mb, m));
}

MorphPlan MorphEvolution::plan(int64_t id, const std::vector<Trial>& earlier) const {
  Generator gen(data::mix_seed(seed_, kPlanStream, static_cast<uint64_t>(id)));
  if (id <= options_.population) return {space_->sample(gen), std::nullopt, std::nullopt};
  // The population: the last P scored trials (aging evolution: the oldest leave).
  std::vector<const Trial*> population;
  for (auto it = earlier.rbegin();
       it != earlier.rend() && static_cast<int64_t>(population.size()) < options_.population; ++it)
    if (it->status == TrialStatus::kDone && it->score) population.push_back(&*it);
  if (population.empty()) return {space_->sample(gen), std::nullopt, std::nullopt};
  // A tournament of S distinct members; its members best first, ties to the earlier trial.
  std::vector<const Trial*> pool = population;
  std::vector<const Trial*> drawn;
  const int64_t s = std::min<int64_t>(options_.tournament, static_cast<int64_t>(pool.size()));
  for (int64_t i = 0; i < s; ++i) {
    const auto k = static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(pool.size())));
    drawn.push_back(pool[k]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(k));
  }
  std::stable_sort(drawn.begin(), drawn.end(), [](const Trial* a, const Trial* b) {
    return *a->score > *b->score || (*a->score == *b->score && a->id < b->id);
  });
  for (const Trial* parent : drawn) {
    const std::vector<space::Morphism> ms = morphisms_of(parent->candidate);
    if (ms.empty()) continue;
    const space::Morphism m =
        ms[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(ms.size())))];
    return {morph(parent->candidate, m), parent->id, m};
  }
  return {space_->sample(gen), std::nullopt, std::nullopt};
}

nlohmann::json MorphEvolution::plan_json(const MorphPlan& p) {
  if (!p.parent) return nullptr;
  return {{"parent", *p.parent},
          {"morphism",
           {{"kind", space::morphism_kind_name(p.morphism->kind)},
            {"layer", p.morphism->layer},
            {"value", p.morphism->value}}}};
}

MorphPlan MorphEvolution::from_trial(const Trial& t) {
  MorphPlan p{t.candidate, std::nullopt, std::nullopt};
  if (!t.fidelity.is_object() || !t.fidelity.contains("morph") || t.fidelity["morph"].is_null())
    return p;
  const nlohmann::json& j = t.fidelity["morph"];
  p.parent = j.at("parent").get<int64_t>();
  const nlohmann::json& m = j.at("morphism");
  p.morphism = space::Morphism{kind_named(m.at("kind").get<std::string>()),
                               m.at("layer").get<int>(), m.at("value").get<int64_t>()};
  return p;
}

std::string MorphEvolution::weights_file(const std::string& run_dir, int64_t trial_id) {
  return fmt::format("{}/weights/trial-{}.safetensors", run_dir, trial_id);
}

std::shared_ptr<space::Network> MorphEvolution::build(const Trial& t, const Trial* parent,
                                                      const std::string& parent_weights,
                                                      const space::ImageShape& shape,
                                                      Generator& gen) const {
  const MorphPlan plan = from_trial(t);
  if (!plan.parent) return space_->build(t.candidate, shape, gen);
  FUSENAS_CHECK(parent != nullptr && parent->id == *plan.parent,
                "trial {}: its parent trial {} is missing", t.id, *plan.parent);
  std::shared_ptr<space::Network> trained = space_->build(parent->candidate, shape, gen);
  trained->load_state_dict(io::load_safetensors(parent_weights).tensors);
  trained->eval();  // the child inherits the function the parent computes when evaluated
  std::shared_ptr<space::Network> child;
  space::Point child_point;
  if (const auto* chain = as_chain(*space_)) {
    const auto& net = dynamic_cast<const space::ChainNetwork&>(*trained);
    space::MorphedChain m =
        space::apply_morphism(net, chain->arch(parent->candidate), *chain, *plan.morphism, gen);
    child = m.network;
    child_point = space::to_json(m.arch);
  } else {
    const auto& mb = *as_multibranch(*space_);
    const auto& net = dynamic_cast<const space::MacroNetwork&>(*trained);
    space::MorphedMacro m = space::apply_morphism(net, mb, *plan.morphism, gen);
    child = m.network;
    child_point = space::MultiBranchSpace::point(m.arch);
  }
  FUSENAS_CHECK(child_point == t.candidate,
                "trial {}: the morphism {} of trial {} gives another architecture than the one "
                "recorded",
                t.id, space::to_text(*plan.morphism), parent->id);
  child->train();
  return child;
}

}  // namespace fusenas::nas
