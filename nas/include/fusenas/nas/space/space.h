// The black-box search-space interface: what every strategy (random, evolution, BO) may do with a
// space's points, and what the trial runner needs to build a network from one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nas::space {

// A point of a space in the space's own JSON form (a genotype, a layer list, hyperparameters, or
// {"arch": ..., "hp": ...} for a joint space). JSON keeps strategies and the trial database free of
// every space's types.
using Point = nlohmann::json;

class Space {
 public:
  virtual ~Space() = default;
  // "darts-cell", "chain", "multibranch", "zoph-le", "hp", "joint(chain+hp)".
  virtual std::string name() const = 0;
  // A uniform (or prior-weighted) random point. Always valid.
  virtual Point sample(Generator& gen) const = 0;
  // A copy of `p` with exactly one decision changed to a different value. Always valid.
  virtual Point mutate(const Point& p, Generator& gen) const = 0;
  // Throws fusenas::Error naming the first thing wrong (a field, a value, a rule) for any JSON that
  // is not a point of this space; returns normally otherwise.
  virtual void validate(const Point& p) const = 0;
  // A fixed-length feature vector (encoding_size() entries, each in [0, 1]) for surrogates.
  virtual std::vector<float> encode(const Point& p) const = 0;
  virtual int64_t encoding_size() const = 0;
  // One line for logs and tables.
  virtual std::string to_text(const Point& p) const = 0;
};

// The input a built network sees and the classes it predicts.
struct ImageShape {
  int64_t channels = 1;  // 1 for Fashion-MNIST, 3 for CIFAR-10
  int64_t size = 28;     // height == width
  int64_t classes = 10;
  // Throws fusenas::Error naming the field for a shape no network can be built for.
  void validate() const;
};

// A classifier built from an architecture point: [N, H, W, C] float32 -> logits [N, classes].
class Network : public nn::Module {
 public:
  virtual int64_t num_parameters() const = 0;
};

// An architecture space: a space whose points build into networks.
class ArchSpace : public Space {
 public:
  virtual std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                         Generator& gen) const = 0;
  // The parameter count of build(p, shape) without building it (for tables and priors).
  virtual int64_t count_parameters(const Point& p, const ImageShape& shape) const = 0;
};

}  // namespace fusenas::nas::space
