// Joint architecture and hyperparameter search: an ArchSpace and an HpSpace as one space whose
// points are {"arch": <arch point>, "hp": <hp point>}.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

class JointSpace : public ArchSpace {
 public:
  JointSpace(std::shared_ptr<const ArchSpace> arch, std::shared_ptr<const HpSpace> hp);

  // "joint(chain+hp)"
  std::string name() const override;
  Point sample(Generator& gen) const override;
  // With probability 1/2 the architecture's mutation, otherwise the hyperparameters'; the other
  // part is kept as it is.
  Point mutate(const Point& p, Generator& gen) const override;
  // Exactly the keys "arch" and "hp"; a part's error is reported with its key in front.
  void validate(const Point& p) const override;
  // The architecture's encoding, then the hyperparameters'.
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override;
  // "<arch text> | <hp text>"
  std::string to_text(const Point& p) const override;
  // From the architecture part alone.
  std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                 Generator& gen) const override;
  int64_t count_parameters(const Point& p, const ImageShape& shape) const override;

  const ArchSpace& arch_space() const { return *arch_; }
  const HpSpace& hp_space() const { return *hp_; }
  // The parts of a point (validated).
  Point arch_part(const Point& p) const;
  Hyperparameters hyperparameters(const Point& p) const;
  static Point point(const Point& arch, const Point& hp);

 private:
  std::shared_ptr<const ArchSpace> arch_;
  std::shared_ptr<const HpSpace> hp_;
};

}  // namespace fusenas::nas::space
