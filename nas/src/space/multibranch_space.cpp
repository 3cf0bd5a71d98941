// The multibranch space: macro-architecture points, their checks, sampling, mutation and encoding.
#include "fusenas/nas/space/multibranch_space.h"

#include <fmt/format.h>

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/space/macro_network.h"
#include "space/json_read.h"
#include "space/skip_bits.h"

namespace fusenas::nas::space {
namespace {

using detail::element;
using detail::JsonReader;
using detail::member;

MacroNetworkConfig network_config(const enas::MacroArch& arch, int64_t channels,
                                  const ImageShape& shape) {
  MacroNetworkConfig c;
  c.arch = arch;
  c.channels = channels;
  c.in_channels = shape.channels;
  c.num_classes = shape.classes;
  return c;
}

}  // namespace

void MultiBranchOptions::validate() const {
  FUSENAS_CHECK(layers >= 1 && layers <= 64,
                "multibranch options: layers must lie in [1, 64], got {}", layers);
  FUSENAS_CHECK(channels >= 2 && channels <= 4096 && channels % 2 == 0,
                "multibranch options: channels must be even and in [2, 4096] (FactorizedReduce "
                "halves them), got {}",
                channels);
}

nlohmann::json MultiBranchOptions::to_json() const {
  return {{"layers", layers}, {"channels", channels}};
}

MultiBranchOptions MultiBranchOptions::from_json(const nlohmann::json& j) {
  const JsonReader r("multibranch options", "the object");
  r.object(j, "", {}, {"layers", "channels"});
  MultiBranchOptions o;
  if (j.contains("layers")) o.layers = static_cast<int>(r.integer(j["layers"], "layers", 1, 64));
  if (j.contains("channels")) o.channels = r.integer(j["channels"], "channels", 2, 4096);
  o.validate();
  return o;
}

MultiBranchSpace::MultiBranchSpace(MultiBranchOptions options) : options_(options) {
  options_.validate();
}

enas::MacroArch MultiBranchSpace::arch(const Point& p) const {
  const JsonReader r("multibranch");
  r.object(p, "", {"layers"});
  const auto n = static_cast<size_t>(options_.layers);
  r.array(p["layers"], "layers", n, n);
  enas::MacroArch arch;
  for (size_t l = 0; l < n; ++l) {
    const nlohmann::json& layer = p["layers"][l];
    const std::string where = element("layers", l);
    r.object(layer, where, {"op", "skips"});
    const auto& names = enas::macro_op_names();
    const std::string op = r.string(layer["op"], member(where, "op"));
    const auto it = std::find(names.begin(), names.end(), op);
    if (it == names.end()) {
      r.fail(member(where, "op"), fmt::format("must be one of {}, got {}", fmt::join(names, ", "),
                                              detail::describe(layer["op"])));
    }
    enas::MacroLayer out;
    out.op = static_cast<enas::MacroOp>(it - names.begin());
    out.skips = r.bits(layer["skips"], member(where, "skips"), l);
    arch.layers.push_back(std::move(out));
  }
  arch.validate();
  return arch;
}

Point MultiBranchSpace::point(const enas::MacroArch& arch) {
  return nlohmann::json::parse(arch.to_json());
}

void MultiBranchSpace::validate(const Point& p) const {
  (void)arch(p);
}

Point MultiBranchSpace::sample(Generator& gen) const {
  enas::MacroArch a;
  for (int l = 0; l < options_.layers; ++l) {
    enas::MacroLayer layer;
    layer.op = static_cast<enas::MacroOp>(gen.next_int(0, enas::kNumMacroOps));
    for (int j = 0; j < l; ++j) layer.skips.push_back(gen.next_int(0, 2) == 1);
    a.layers.push_back(std::move(layer));
  }
  return point(a);
}

Point MultiBranchSpace::mutate(const Point& p, Generator& gen) const {
  enas::MacroArch a = arch(p);
  const int64_t layers = options_.layers;
  const int64_t skips = layers * (layers - 1) / 2;
  if (skips == 0 || gen.next_int(0, 2) == 0) {
    auto& layer = a.layers[static_cast<size_t>(gen.next_int(0, layers))];
    // One of the other 5 ops: skip over the current one.
    int op = static_cast<int>(gen.next_int(0, enas::kNumMacroOps - 1));
    if (op >= static_cast<int>(layer.op)) ++op;
    layer.op = static_cast<enas::MacroOp>(op);
  } else {
    detail::flip_skip_bit(a.layers, gen.next_int(0, skips));
  }
  return point(a);
}

int64_t MultiBranchSpace::encoding_size() const {
  const int64_t l = options_.layers;
  return enas::kNumMacroOps * l + l * (l - 1) / 2;
}

std::vector<float> MultiBranchSpace::encode(const Point& p) const {
  const enas::MacroArch a = arch(p);
  std::vector<float> v(static_cast<size_t>(encoding_size()), 0.0f);
  size_t skip = static_cast<size_t>(enas::kNumMacroOps) * a.layers.size();
  for (size_t l = 0; l < a.layers.size(); ++l) {
    v[l * enas::kNumMacroOps + static_cast<size_t>(a.layers[l].op)] = 1.0f;
    for (bool s : a.layers[l].skips) v[skip++] = s ? 1.0f : 0.0f;
  }
  return v;
}

std::string MultiBranchSpace::to_text(const Point& p) const {
  const enas::MacroArch a = arch(p);
  std::vector<std::string> parts;
  for (const auto& layer : a.layers) {
    std::string s(enas::macro_op_name(layer.op));
    std::vector<size_t> from;
    for (size_t j = 0; j < layer.skips.size(); ++j)
      if (layer.skips[j]) from.push_back(j);
    if (!from.empty()) s += fmt::format(" <- {}", fmt::join(from, " "));
    parts.push_back(std::move(s));
  }
  return fmt::format("{}", fmt::join(parts, " | "));
}

void MultiBranchSpace::check_shape(const ImageShape& shape) const {
  shape.validate();
  enas::MacroSpace plan;
  plan.layers = options_.layers;
  int reductions = 0;
  for (int l = 0; l < options_.layers; ++l) reductions += plan.reduces_after(l) ? 1 : 0;
  FUSENAS_CHECK(shape.size % (int64_t{1} << reductions) == 0,
                "multibranch: {} layers reduce {} times, so the image size must be a multiple of "
                "{} (FactorizedReduce halves even maps only), got {}",
                options_.layers, reductions, 1 << reductions, shape.size);
}

std::shared_ptr<Network> MultiBranchSpace::build(const Point& p, const ImageShape& shape,
                                                 Generator& gen) const {
  check_shape(shape);
  return std::make_shared<MacroNetwork>(network_config(arch(p), options_.channels, shape), gen);
}

int64_t MultiBranchSpace::count_parameters(const Point& p, const ImageShape& shape) const {
  shape.validate();
  return macro_parameter_count(network_config(arch(p), options_.channels, shape));
}

}  // namespace fusenas::nas::space
