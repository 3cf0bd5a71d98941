// The hyperparameter space: priors, local mutation and the [0, 1] encoding.
#include "fusenas/nas/space/hp_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/nas/train/train_config.h"
#include "space/json_read.h"

namespace fusenas::nas::space {
namespace {

using detail::element;
using detail::JsonReader;

constexpr double kMutationStep = 0.2;  // standard deviation on the [0, 1] scale

// A bounded prior: the map between a value and its position in [0, 1].
struct Prior {
  double min, max;
  bool log;
  double to_unit(double v) const {
    const double u = log ? std::log(v / min) / std::log(max / min) : (v - min) / (max - min);
    return std::clamp(u, 0.0, 1.0);
  }
  // Clamped, so rounding in exp() never steps outside the bounds validate() checks.
  double from_unit(double u) const {
    const double v = log ? min * std::exp(u * std::log(max / min)) : min + u * (max - min);
    return std::clamp(v, min, max);
  }
};

void check_range(const char* field, double min, double max, bool log, double limit_min,
                 double limit_max) {
  const bool ok = std::isfinite(min) && std::isfinite(max) && min < max && max <= limit_max &&
                  (log ? min > 0 : min >= limit_min);
  FUSENAS_CHECK(ok, "hp options: {} needs {} {}_min < {}_max <= {}, got [{}, {}]", field,
                log ? std::string("0 <") : fmt::format("{} <=", limit_min), field, field, limit_max,
                min, max);
}

}  // namespace

void HpOptions::validate() const {
  FUSENAS_CHECK(!batch_sizes.empty() && batch_sizes.size() <= 32,
                "hp options: batch_sizes must list 1 to 32 values, got {}", batch_sizes.size());
  for (size_t i = 0; i < batch_sizes.size(); ++i) {
    FUSENAS_CHECK(batch_sizes[i] >= 1 && batch_sizes[i] <= 65536,
                  "hp options: batch_sizes[{}] must lie in [1, 65536], got {}", i, batch_sizes[i]);
    FUSENAS_CHECK(
        std::count(batch_sizes.begin(), batch_sizes.begin() + static_cast<std::ptrdiff_t>(i),
                   batch_sizes[i]) == 0,
        "hp options: batch_sizes[{}] = {} is listed twice", i, batch_sizes[i]);
  }
  check_range("lr", lr_min, lr_max, true, 0, 100);
  check_range("momentum", momentum_min, momentum_max, false, 0, 1);
  check_range("weight_decay", weight_decay_min, weight_decay_max, true, 0, 1);
}

nlohmann::json HpOptions::to_json() const {
  return {{"batch_sizes", batch_sizes},
          {"lr_min", lr_min},
          {"lr_max", lr_max},
          {"momentum_min", momentum_min},
          {"momentum_max", momentum_max},
          {"weight_decay_min", weight_decay_min},
          {"weight_decay_max", weight_decay_max}};
}

HpOptions HpOptions::from_json(const nlohmann::json& j) {
  const JsonReader r("hp options", "the object");
  r.object(j, "", {},
           {"batch_sizes", "lr_min", "lr_max", "momentum_min", "momentum_max", "weight_decay_min",
            "weight_decay_max"});
  HpOptions o;
  if (j.contains("batch_sizes")) {
    r.array(j["batch_sizes"], "batch_sizes", 1, 32);
    o.batch_sizes.clear();
    for (size_t i = 0; i < j["batch_sizes"].size(); ++i)
      o.batch_sizes.push_back(r.integer(j["batch_sizes"][i], element("batch_sizes", i), 1, 65536));
  }
  const auto read = [&](const char* key, double& out) {
    if (j.contains(key)) out = r.number(j[key], key, 0, 100);
  };
  read("lr_min", o.lr_min);
  read("lr_max", o.lr_max);
  read("momentum_min", o.momentum_min);
  read("momentum_max", o.momentum_max);
  read("weight_decay_min", o.weight_decay_min);
  read("weight_decay_max", o.weight_decay_max);
  o.validate();
  return o;
}

HpSpace::HpSpace(HpOptions options) : options_(std::move(options)) {
  options_.validate();
}

Hyperparameters HpSpace::values(const Point& p) const {
  const JsonReader r("hp");
  r.object(p, "", {"batch_size", "lr", "momentum", "weight_decay"});
  const auto& choices = options_.batch_sizes;
  const nlohmann::json& b = p["batch_size"];
  if (!b.is_number_integer() ||
      std::find(choices.begin(), choices.end(), b.get<int64_t>()) == choices.end()) {
    r.fail("batch_size",
           fmt::format("must be one of {}, got {}", fmt::join(choices, ", "), detail::describe(b)));
  }
  Hyperparameters h;
  h.batch_size = b.get<int64_t>();
  h.lr = r.number(p["lr"], "lr", options_.lr_min, options_.lr_max);
  h.momentum = r.number(p["momentum"], "momentum", options_.momentum_min, options_.momentum_max);
  h.weight_decay = r.number(p["weight_decay"], "weight_decay", options_.weight_decay_min,
                            options_.weight_decay_max);
  return h;
}

Point HpSpace::point(const Hyperparameters& h) {
  return {{"batch_size", h.batch_size},
          {"lr", h.lr},
          {"momentum", h.momentum},
          {"weight_decay", h.weight_decay}};
}

void HpSpace::validate(const Point& p) const {
  (void)values(p);
}

Point HpSpace::default_point() const {
  const TrainConfig defaults;
  const Point p = point(
      {defaults.batch_size, defaults.sgd.lr, defaults.sgd.momentum, defaults.sgd.weight_decay});
  try {
    validate(p);
  } catch (const Error& e) {
    FUSENAS_FAIL("hp: the options leave out nas_train's defaults: {}", e.what());
  }
  return p;
}

Point HpSpace::sample(Generator& gen) const {
  const auto& o = options_;
  Hyperparameters h;
  h.batch_size = o.batch_sizes[static_cast<size_t>(
      gen.next_int(0, static_cast<int64_t>(o.batch_sizes.size())))];
  h.lr = Prior{o.lr_min, o.lr_max, true}.from_unit(gen.next_double());
  h.momentum = Prior{o.momentum_min, o.momentum_max, false}.from_unit(gen.next_double());
  h.weight_decay = Prior{o.weight_decay_min, o.weight_decay_max, true}.from_unit(gen.next_double());
  return point(h);
}

Point HpSpace::mutate(const Point& p, Generator& gen) const {
  const auto& o = options_;
  Hyperparameters h = values(p);
  // A single batch size leaves only the three continuous hyperparameters to change.
  const bool batch_fixed = o.batch_sizes.size() == 1;
  const int64_t which = gen.next_int(batch_fixed ? 1 : 0, 4);
  if (which == 0) {
    std::vector<int64_t> others;
    for (int64_t b : o.batch_sizes)
      if (b != h.batch_size) others.push_back(b);
    h.batch_size =
        others[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(others.size())))];
    return point(h);
  }
  const Prior priors[3] = {{o.lr_min, o.lr_max, true},
                           {o.momentum_min, o.momentum_max, false},
                           {o.weight_decay_min, o.weight_decay_max, true}};
  double* fields[3] = {&h.lr, &h.momentum, &h.weight_decay};
  const Prior& prior = priors[which - 1];
  double& value = *fields[which - 1];
  const double u = prior.to_unit(value);
  // Redrawn in the (vanishingly rare) case the step rounds back to the same value.
  double next = value;
  do {
    double v = u + kMutationStep * gen.next_normal();
    while (v < 0 || v > 1) v = v < 0 ? -v : 2 - v;  // reflect into [0, 1]
    next = prior.from_unit(v);
  } while (next == value);
  value = next;
  return point(h);
}

std::vector<float> HpSpace::encode(const Point& p) const {
  const auto& o = options_;
  const Hyperparameters h = values(p);
  const auto n = static_cast<int64_t>(o.batch_sizes.size());
  const auto index =
      std::find(o.batch_sizes.begin(), o.batch_sizes.end(), h.batch_size) - o.batch_sizes.begin();
  return {n == 1 ? 0.0f : static_cast<float>(index) / static_cast<float>(n - 1),
          static_cast<float>(Prior{o.lr_min, o.lr_max, true}.to_unit(h.lr)),
          static_cast<float>(Prior{o.momentum_min, o.momentum_max, false}.to_unit(h.momentum)),
          static_cast<float>(
              Prior{o.weight_decay_min, o.weight_decay_max, true}.to_unit(h.weight_decay))};
}

std::string HpSpace::to_text(const Point& p) const {
  const Hyperparameters h = values(p);
  return fmt::format("batch {}, lr {:.4g}, momentum {:.4g}, weight decay {:.4g}", h.batch_size,
                     h.lr, h.momentum, h.weight_decay);
}

}  // namespace fusenas::nas::space
