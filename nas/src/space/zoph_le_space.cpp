// The Zoph & Le space: sampling, one-decision mutation, the encoding, and building networks.
#include "fusenas/nas/space/zoph_le_space.h"

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/zoph_le_network.h"
#include "space/skip_bits.h"

namespace fusenas::nas::space {
namespace {

// A per-layer decision: its choices and the layer's field holding it.
struct Decision {
  const std::vector<int64_t>* choices;
  int64_t ZophLeLayer::*field;
};

// Height, width, filters and stride, in the encoding's order; only those with more than one
// choice when `varying`.
std::vector<Decision> layer_decisions(const ZophLeOptions& o, bool varying) {
  std::vector<Decision> all = {{&o.heights, &ZophLeLayer::height},
                               {&o.widths, &ZophLeLayer::width},
                               {&o.filters, &ZophLeLayer::filters},
                               {&o.strides, &ZophLeLayer::stride}};
  if (!varying) return all;
  std::vector<Decision> out;
  for (const Decision& d : all)
    if (d.choices->size() > 1) out.push_back(d);
  return out;
}

int64_t pick(const std::vector<int64_t>& v, Generator& gen) {
  return v[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(v.size())))];
}

size_t index_of(const std::vector<int64_t>& v, int64_t x) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == x) return i;
  FUSENAS_FAIL("zoph-le: value {} is not among the options' choices", x);
}

}  // namespace

ZophLeSpace::ZophLeSpace(ZophLeOptions options) : options_(std::move(options)) {
  options_.validate();
}

void ZophLeSpace::validate(const Point& p) const {
  (void)arch(p);
}

Point ZophLeSpace::sample(Generator& gen) const {
  ZophLeArch a;
  for (int l = 0; l < options_.layers; ++l) {
    ZophLeLayer layer;
    for (const Decision& d : layer_decisions(options_, false))
      layer.*d.field = pick(*d.choices, gen);
    for (int j = 0; j < l; ++j) layer.skips.push_back(gen.next_int(0, 2) == 1);
    a.layers.push_back(std::move(layer));
  }
  return point(a);
}

Point ZophLeSpace::mutate(const Point& p, Generator& gen) const {
  ZophLeArch a = arch(p);
  const int64_t layers = options_.layers;
  const int64_t skips = layers * (layers - 1) / 2;
  const std::vector<Decision> decisions = layer_decisions(options_, true);
  const auto per_layer = static_cast<int64_t>(decisions.size());
  // The options refuse a single-point space, so one of the two kinds exists.
  const bool layer_decision = skips == 0 || (per_layer > 0 && gen.next_int(0, 2) == 0);
  if (layer_decision) {
    const int64_t k = gen.next_int(0, layers * per_layer);
    ZophLeLayer& layer = a.layers[static_cast<size_t>(k / per_layer)];
    const Decision& d = decisions[static_cast<size_t>(k % per_layer)];
    // One of the other choices: skip over the current one.
    const auto current = static_cast<int64_t>(index_of(*d.choices, layer.*d.field));
    int64_t i = gen.next_int(0, static_cast<int64_t>(d.choices->size()) - 1);
    if (i >= current) ++i;
    layer.*d.field = (*d.choices)[static_cast<size_t>(i)];
  } else {
    detail::flip_skip_bit(a.layers, gen.next_int(0, skips));
  }
  return point(a);
}

int64_t ZophLeSpace::encoding_size() const {
  int64_t per_layer = 0;
  for (const Decision& d : layer_decisions(options_, true))
    per_layer += static_cast<int64_t>(d.choices->size());
  const int64_t l = options_.layers;
  return l * per_layer + l * (l - 1) / 2;
}

std::vector<float> ZophLeSpace::encode(const Point& p) const {
  const ZophLeArch a = arch(p);
  std::vector<float> v(static_cast<size_t>(encoding_size()), 0.0f);
  size_t at = 0;
  for (const ZophLeLayer& layer : a.layers) {
    for (const Decision& d : layer_decisions(options_, true)) {
      v[at + index_of(*d.choices, layer.*d.field)] = 1.0f;
      at += d.choices->size();
    }
  }
  for (const ZophLeLayer& layer : a.layers)
    for (bool s : layer.skips) v[at++] = s ? 1.0f : 0.0f;
  return v;
}

std::string ZophLeSpace::to_text(const Point& p) const {
  return space::to_text(arch(p));
}

void ZophLeSpace::check_shape(const ImageShape& shape) const {
  shape.validate();
}

std::shared_ptr<Network> ZophLeSpace::build(const Point& p, const ImageShape& shape,
                                            Generator& gen) const {
  check_shape(shape);
  return std::make_shared<ZophLeNetwork>(arch(p), shape, gen);
}

int64_t ZophLeSpace::count_parameters(const Point& p, const ImageShape& shape) const {
  check_shape(shape);
  return zoph_le_parameter_count(arch(p), shape);
}

}  // namespace fusenas::nas::space
