// The chain space: sampling, one-decision mutation and the encoding of chain architectures.
#include "fusenas/nas/space/chain_space.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/chain_network.h"

namespace fusenas::nas::space {
namespace {

// Depth, conv layers, reductions and width, after the per-layer slots (encode()).
constexpr size_t kSummaryFeatures = 4;

template <typename T>
const T& pick(const std::vector<T>& v, Generator& gen) {
  return v[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(v.size())))];
}

// A value of `choices` other than `current` (the caller knows there is one).
int64_t other(const std::vector<int64_t>& choices, int64_t current, Generator& gen) {
  std::vector<int64_t> rest;
  for (int64_t v : choices)
    if (v != current) rest.push_back(v);
  return pick(rest, gen);
}

int64_t index_of(const std::vector<int64_t>& v, int64_t x) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == x) return static_cast<int64_t>(i);
  FUSENAS_FAIL("chain: value {} is not among the options' choices", x);
}

}  // namespace

ChainSpace::ChainSpace(ChainOptions options) : options_(std::move(options)) {
  options_.validate();
}

ChainArch ChainSpace::arch(const Point& p) const {
  return chain_arch_from_json(p, options_);
}

void ChainSpace::validate(const Point& p) const {
  (void)arch(p);
}

ChainLayer ChainSpace::sample_layer(Generator& gen, bool may_reduce) const {
  ChainLayer l;
  l.type = static_cast<ChainLayerType>(gen.next_int(0, kNumChainLayerTypes));
  if (has_kernel(l.type)) {
    l.kernel = pick(options_.kernels, gen);
    l.stride = may_reduce && gen.next_int(0, 2) == 1 ? 2 : 1;
  }
  if (has_filters(l.type)) l.filters = pick(options_.filters, gen);
  return l;
}

Point ChainSpace::sample(Generator& gen) const {
  ChainArch a;
  const int64_t depth = gen.next_int(1, options_.max_layers + 1);
  for (int64_t i = 0; i < depth; ++i)
    a.layers.push_back(sample_layer(gen, a.reductions() < options_.max_reductions));
  return to_json(a);
}

Point ChainSpace::mutate(const Point& p, Generator& gen) const {
  ChainArch a = arch(p);
  enum Kind { kAppend, kDrop, kType, kKernel, kFilters, kStride };
  struct Decision {
    Kind kind;
    size_t layer;
  };
  const bool may_reduce = a.reductions() < options_.max_reductions;
  std::vector<Decision> decisions;
  if (a.layers.size() < static_cast<size_t>(options_.max_layers)) decisions.push_back({kAppend, 0});
  if (a.layers.size() > 1) decisions.push_back({kDrop, 0});
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const ChainLayer& l = a.layers[i];
    decisions.push_back({kType, i});  // at least 3 other types fit any layer
    if (has_kernel(l.type) && options_.kernels.size() > 1) decisions.push_back({kKernel, i});
    if (has_filters(l.type) && options_.filters.size() > 1) decisions.push_back({kFilters, i});
    if (has_kernel(l.type) && (l.stride == 2 || may_reduce)) decisions.push_back({kStride, i});
  }
  const Decision d = pick(decisions, gen);
  switch (d.kind) {
    case kAppend:
      a.layers.push_back(sample_layer(gen, may_reduce));
      break;
    case kDrop:
      a.layers.pop_back();
      break;
    case kType: {
      ChainLayer& l = a.layers[d.layer];
      std::vector<ChainLayerType> types;
      for (int t = 0; t < kNumChainLayerTypes; ++t) {
        const auto type = static_cast<ChainLayerType>(t);
        if (type != l.type && (type != ChainLayerType::kIdentity || l.stride == 1))
          types.push_back(type);
      }
      const ChainLayerType to = pick(types, gen);
      if (!has_kernel(to)) l.kernel = 0;
      if (has_kernel(to) && !has_kernel(l.type)) l.kernel = pick(options_.kernels, gen);
      if (!has_filters(to)) l.filters = 0;
      if (has_filters(to) && !has_filters(l.type)) l.filters = pick(options_.filters, gen);
      l.type = to;
      break;
    }
    case kKernel:
      a.layers[d.layer].kernel = other(options_.kernels, a.layers[d.layer].kernel, gen);
      break;
    case kFilters:
      a.layers[d.layer].filters = other(options_.filters, a.layers[d.layer].filters, gen);
      break;
    case kStride:
      a.layers[d.layer].stride = 3 - a.layers[d.layer].stride;
      break;
  }
  return to_json(a);
}

int64_t ChainSpace::encoding_size() const {
  const auto per_layer = static_cast<int64_t>(1 + kNumChainLayerTypes + options_.kernels.size() +
                                              options_.filters.size() + 1);
  return options_.max_layers * per_layer + static_cast<int64_t>(kSummaryFeatures);
}

std::vector<float> ChainSpace::encode(const Point& p) const {
  const ChainArch a = arch(p);
  std::vector<float> v(static_cast<size_t>(encoding_size()), 0.0f);
  const size_t per_layer = (v.size() - kSummaryFeatures) / static_cast<size_t>(options_.max_layers);
  float convs = 0, reductions = 0, width = 0;
  const int64_t widest = *std::max_element(options_.filters.begin(), options_.filters.end());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const ChainLayer& l = a.layers[i];
    float* slot = v.data() + i * per_layer;
    slot[0] = 1;
    slot[1 + static_cast<int>(l.type)] = 1;
    float* kernels = slot + 1 + kNumChainLayerTypes;
    float* filters = kernels + options_.kernels.size();
    if (has_kernel(l.type)) kernels[index_of(options_.kernels, l.kernel)] = 1;
    if (has_filters(l.type)) filters[index_of(options_.filters, l.filters)] = 1;
    filters[options_.filters.size()] = l.stride == 2 ? 1.0f : 0.0f;
    convs += has_filters(l.type) ? 1.0f : 0.0f;
    reductions += l.stride == 2 ? 1.0f : 0.0f;
    if (has_filters(l.type)) width += static_cast<float>(l.filters) / static_cast<float>(widest);
  }
  // Summaries a slot-wise one-hot hides: the same layer one slot later shares no feature with
  // it, so without these a surrogate cannot see that depth and width drive the score.
  const auto max_layers = static_cast<float>(options_.max_layers);
  float* summary = v.data() + v.size() - kSummaryFeatures;
  summary[0] = static_cast<float>(a.layers.size()) / max_layers;
  summary[1] = convs / max_layers;
  summary[2] =
      std::min(1.0f, reductions / static_cast<float>(std::max(1, options_.max_reductions)));
  summary[3] = width / max_layers;
  return v;
}

std::string ChainSpace::to_text(const Point& p) const {
  return space::to_text(arch(p));
}

std::shared_ptr<Network> ChainSpace::build(const Point& p, const ImageShape& shape,
                                           Generator& gen) const {
  return std::make_shared<ChainNetwork>(arch(p), options_.stem_channels, shape, gen);
}

int64_t ChainSpace::count_parameters(const Point& p, const ImageShape& shape) const {
  shape.validate();
  return chain_parameter_count(arch(p), options_.stem_channels, shape);
}

}  // namespace fusenas::nas::space
