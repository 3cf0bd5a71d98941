// The joint space: both parts sampled, mutated, checked and encoded side by side.
#include "fusenas/nas/space/joint_space.h"

#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "space/json_read.h"

namespace fusenas::nas::space {

JointSpace::JointSpace(std::shared_ptr<const ArchSpace> arch, std::shared_ptr<const HpSpace> hp)
    : arch_(std::move(arch)), hp_(std::move(hp)) {
  FUSENAS_CHECK(arch_ && hp_, "joint space: both an architecture space and an hp space are needed");
}

std::string JointSpace::name() const {
  return fmt::format("joint({}+{})", arch_->name(), hp_->name());
}

Point JointSpace::point(const Point& arch, const Point& hp) {
  return {{"arch", arch}, {"hp", hp}};
}

void JointSpace::validate(const Point& p) const {
  detail::JsonReader(name()).object(p, "", {"arch", "hp"});
  // Rethrown with the part named and the part's message whole (its file:line included).
  const std::pair<const char*, const Space*> parts[] = {{"arch", arch_.get()}, {"hp", hp_.get()}};
  for (const auto& [key, space] : parts) {
    try {
      space->validate(p[key]);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: '{}': {}", name(), key, e.what()));
    }
  }
}

Point JointSpace::arch_part(const Point& p) const {
  validate(p);
  return p["arch"];
}

Hyperparameters JointSpace::hyperparameters(const Point& p) const {
  validate(p);
  return hp_->values(p["hp"]);
}

Point JointSpace::sample(Generator& gen) const {
  Point arch = arch_->sample(gen);
  return point(arch, hp_->sample(gen));
}

Point JointSpace::mutate(const Point& p, Generator& gen) const {
  validate(p);
  if (gen.next_int(0, 2) == 0) return point(arch_->mutate(p["arch"], gen), p["hp"]);
  return point(p["arch"], hp_->mutate(p["hp"], gen));
}

std::vector<float> JointSpace::encode(const Point& p) const {
  validate(p);
  std::vector<float> v = arch_->encode(p["arch"]);
  const std::vector<float> hp = hp_->encode(p["hp"]);
  v.insert(v.end(), hp.begin(), hp.end());
  return v;
}

int64_t JointSpace::encoding_size() const {
  return arch_->encoding_size() + hp_->encoding_size();
}

std::string JointSpace::to_text(const Point& p) const {
  validate(p);
  return arch_->to_text(p["arch"]) + " | " + hp_->to_text(p["hp"]);
}

std::shared_ptr<Network> JointSpace::build(const Point& p, const ImageShape& shape,
                                           Generator& gen) const {
  return arch_->build(arch_part(p), shape, gen);
}

int64_t JointSpace::count_parameters(const Point& p, const ImageShape& shape) const {
  return arch_->count_parameters(arch_part(p), shape);
}

}  // namespace fusenas::nas::space
