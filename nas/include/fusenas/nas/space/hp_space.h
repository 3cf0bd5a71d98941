// The hyperparameter space of SGD training: batch size, learning rate, momentum and weight decay,
// each with a prior (log-uniform for the scale parameters).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

struct Hyperparameters {
  int64_t batch_size = 0;
  double lr = 0;
  double momentum = 0;
  double weight_decay = 0;
  friend bool operator==(const Hyperparameters&, const Hyperparameters&) = default;
};

struct HpOptions {
  // Choices, uniform. 96 is nas_train's default, so the default point lies in the space.
  std::vector<int64_t> batch_sizes = {32, 64, 96, 128, 256};
  double lr_min = 1e-3, lr_max = 1.0;                       // log-uniform
  double momentum_min = 0.5, momentum_max = 0.99;           // uniform
  double weight_decay_min = 1e-5, weight_decay_max = 1e-2;  // log-uniform

  // Throws fusenas::Error naming the field and the rule for the first bad value.
  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static HpOptions from_json(const nlohmann::json& j);
};

// Points: {"batch_size": 64, "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0003}.
class HpSpace : public Space {
 public:
  explicit HpSpace(HpOptions options = {});

  std::string name() const override { return "hp"; }
  // Each hyperparameter from its prior, independently.
  Point sample(Generator& gen) const override;
  // One hyperparameter, chosen uniformly, changes: the batch size to another choice; a
  // continuous one takes a Gaussian step of standard deviation 0.2 on its encoded [0, 1] scale
  // (the prior's: log for lr and weight decay), reflected at the bounds. A local step rather than
  // a fresh draw, so that evolution refines a good setting instead of forgetting it.
  Point mutate(const Point& p, Generator& gen) const override;
  // Exactly the four keys; the batch size an integer among the choices, the others finite
  // numbers within their bounds.
  void validate(const Point& p) const override;
  // [index of the batch size / (choices - 1), then each continuous value mapped to [0, 1] on its
  // prior's scale]: 4 entries (the batch entry is 0 with a single choice).
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override { return 4; }
  // "batch 64, lr 0.05, momentum 0.9, weight decay 0.0003"
  std::string to_text(const Point& p) const override;

  // nas_train's SGD defaults (TrainConfig); throws when the options leave them out.
  Point default_point() const;
  const HpOptions& options() const { return options_; }
  // The point's values (validated).
  Hyperparameters values(const Point& p) const;
  static Point point(const Hyperparameters& h);

 private:
  HpOptions options_;
};

}  // namespace fusenas::nas::space
