// Network morphisms of the chain space (deepen, widen, grow a kernel) and the host-side state
// edits that every morphism shares.
#include "fusenas/nas/space/morphism.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/batch_norm.h"
#include "morphism_state.h"

namespace fusenas::nas::space {

std::string_view morphism_kind_name(MorphismKind kind) {
  switch (kind) {
    case MorphismKind::kDeepen:
      return "deepen";
    case MorphismKind::kWiden:
      return "widen";
    case MorphismKind::kAddSkip:
      return "add_skip";
    case MorphismKind::kGrowKernel:
      return "grow_kernel";
  }
  FUSENAS_FAIL("morphism kind value {} is outside 0..3", static_cast<int>(kind));
}

std::string to_text(const Morphism& m) {
  const std::string_view name = morphism_kind_name(m.kind);
  switch (m.kind) {
    case MorphismKind::kDeepen:
      return fmt::format("{}@{} k{}", name, m.layer, m.value);
    case MorphismKind::kAddSkip:
      return fmt::format("{} {}->{}", name, m.value, m.layer);
    default:
      return fmt::format("{}@{} to {}", name, m.layer, m.value);
  }
}

namespace morph {

HostState read_state(const nn::Module& m) {
  HostState s;
  for (const auto& [name, t] : m.state_dict())
    s[name] = HostTensor{t.shape(), t.to_vector<double>()};
  return s;
}

HostTensor gather(const HostTensor& t, int axis, const std::vector<int64_t>& from,
                  const std::vector<double>& divisor) {
  const auto a = static_cast<size_t>(axis);
  FUSENAS_CHECK(a < t.shape.size(), "morphism: axis {} of a {}-d tensor", axis, t.shape.size());
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < a; ++d) outer *= t.shape[d];
  for (size_t d = a + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t n = t.shape[a], m = static_cast<int64_t>(from.size());
  HostTensor out{t.shape, std::vector<double>(static_cast<size_t>(outer * m * inner))};
  out.shape[a] = m;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j) {
      const int64_t src = from[static_cast<size_t>(j)];
      FUSENAS_CHECK(src >= 0 && src < n, "morphism: channel {} of {}", src, n);
      const double div = divisor.empty() ? 1.0 : divisor[static_cast<size_t>(j)];
      for (int64_t i = 0; i < inner; ++i)
        out.v[static_cast<size_t>((o * m + j) * inner + i)] =
            t.v[static_cast<size_t>((o * n + src) * inner + i)] / div;
    }
  return out;
}

HostTensor pad_kernel(const HostTensor& t, int64_t k2) {
  FUSENAS_CHECK(t.shape.size() == 4 && t.shape[1] == t.shape[2] && k2 >= t.shape[1] &&
                    (k2 - t.shape[1]) % 2 == 0,
                "morphism: cannot pad a {} kernel to {}x{}", shape_str(t.shape), k2, k2);
  const int64_t o_n = t.shape[0], k = t.shape[1], c = t.shape[3], d = (k2 - k) / 2;
  HostTensor out{{o_n, k2, k2, c}, std::vector<double>(static_cast<size_t>(o_n * k2 * k2 * c))};
  for (int64_t o = 0; o < o_n; ++o)
    for (int64_t y = 0; y < k; ++y)
      for (int64_t x = 0; x < k; ++x)
        for (int64_t i = 0; i < c; ++i)
          out.v[static_cast<size_t>(((o * k2 + y + d) * k2 + x + d) * c + i)] =
              t.v[static_cast<size_t>(((o * k + y) * k + x) * c + i)];
  return out;
}

const HostTensor& entry(const HostState& s, const std::string& name, std::string_view what) {
  const auto it = s.find(name);
  FUSENAS_CHECK(it != s.end(),
                "{}: the parent network has no '{}'; is it the network of the "
                "architecture given?",
                what, name);
  return it->second;
}

void hand_over(nn::Module& child, const nn::Module& parent, const HostState& inherited,
               bool complete, std::string_view what) {
  const std::vector<Tensor> params = parent.parameters();
  FUSENAS_CHECK(!params.empty(), "{}: the parent network has no parameters", what);
  child.to(params.front().dtype());
  const nn::StateDict fresh = child.state_dict();
  nn::StateDict load;
  for (const auto& [name, t] : inherited) {
    const auto it = fresh.find(name);
    FUSENAS_CHECK(it != fresh.end(),
                  "{}: the parent's '{}' has no place in the child network; is "
                  "the parent the network of the architecture given?",
                  what, name);
    FUSENAS_CHECK(it->second.shape() == t.shape,
                  "{}: '{}' is {} in the child network but {} from the parent; is the parent the "
                  "network of the architecture given?",
                  what, name, shape_str(it->second.shape()), shape_str(t.shape));
    load[name] = from_vector<double>(t.v, t.shape, TensorOptions{}.with_dtype(DType::Float64));
  }
  if (complete) {
    for (const auto& [name, t] : fresh)
      FUSENAS_CHECK(inherited.count(name) == 1, "{}: the child's '{}' inherits nothing", what,
                    name);
  }
  child.load_state_dict(load, /*strict=*/false);
  child.to(params.front().device());
  child.train(parent.is_training());
}

Morphism pick(const std::vector<Morphism>& ms, Generator& gen, std::string_view what) {
  FUSENAS_CHECK(!ms.empty(), "{} has no applicable morphism", what);
  return ms[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(ms.size())))];
}

}  // namespace morph

namespace {

using morph::HostState;
using morph::HostTensor;

// The names ChainNetwork registers: a conv layer is ReLUConvBN ("op_conv", "op_bn"), a sep_conv
// layer a Sequential of ReLU, depthwise conv, 1x1 conv and BN ("1", "2", "3").
std::string layer_name(size_t i) {
  return "layer_" + std::to_string(i);
}
constexpr const char* kBnFields[] = {"weight", "bias", "running_mean", "running_var"};

std::vector<int64_t> sorted_unique(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The channels entering layer i (the stem's until the first layer with filters).
int64_t channels_before(const ChainArch& a, size_t i, int64_t stem_channels) {
  int64_t c = stem_channels;
  for (size_t j = 0; j < i; ++j)
    if (has_filters(a.layers[j].type)) c = a.layers[j].filters;
  return c;
}

// Whether ReLU(x) in place of x at the input of layer p leaves the output unchanged: identities
// and max pools commute with ReLU (it is monotone), and a conv or sep_conv applies ReLU first,
// which is idempotent. An avg pool or the global average pool before the classifier would average
// the clipped values instead.
bool relu_absorbed_at(const ChainArch& a, size_t p) {
  for (size_t j = p; j < a.layers.size(); ++j) {
    switch (a.layers[j].type) {
      case ChainLayerType::kConv:
      case ChainLayerType::kSepConv:
        return true;
      case ChainLayerType::kIdentity:
      case ChainLayerType::kMaxPool:
        continue;
      case ChainLayerType::kAvgPool:
        return false;
    }
  }
  return false;
}

// The first layer after i that mixes channels (a conv or sep_conv), or layers.size() for the
// classifier: the one whose incoming weights see a widened layer's copies.
size_t reader_of(const ChainArch& a, size_t i) {
  for (size_t j = i + 1; j < a.layers.size(); ++j)
    if (has_filters(a.layers[j].type)) return j;
  return a.layers.size();
}

// Keys "layer_<i>.<rest>" with i >= from become "layer_<i + 1>.<rest>".
HostState shift_layers(const HostState& s, size_t from) {
  HostState out;
  for (const auto& [name, t] : s) {
    std::string key = name;
    if (name.rfind("layer_", 0) == 0) {
      const size_t dot = name.find('.');
      const size_t i = std::stoul(name.substr(6, dot - 6));
      if (i >= from) key = layer_name(i + 1) + name.substr(dot);
    }
    out[key] = t;
  }
  return out;
}

void check_applicable(const std::vector<Morphism>& ms, const Morphism& m, const std::string& arch) {
  FUSENAS_CHECK(std::find(ms.begin(), ms.end(), m) != ms.end(),
                "morphism {} is not applicable to '{}': it would leave the space or change the "
                "network's function (applicable_morphisms lists those that do neither)",
                to_text(m), arch);
}

// Deepen's new layer: identity kernel, identity BN (in evaluation mode).
void identity_layer(HostState& s, const std::string& prefix, int64_t c, int64_t k, double eps) {
  HostTensor w{{c, k, k, c}, std::vector<double>(static_cast<size_t>(c * k * k * c), 0.0)};
  for (int64_t o = 0; o < c; ++o)
    w.v[static_cast<size_t>(((o * k + k / 2) * k + k / 2) * c + o)] = 1.0;
  s[prefix + ".op_conv.weight"] = w;
  const auto filled = [c](double v) {
    return HostTensor{{c}, std::vector<double>(static_cast<size_t>(c), v)};
  };
  // gamma / sqrt(var + eps) = 1 with var 1: the product is 1 up to one rounding.
  s[prefix + ".op_bn.weight"] = filled(std::sqrt(1.0 + eps));
  s[prefix + ".op_bn.bias"] = filled(0.0);
  s[prefix + ".op_bn.running_mean"] = filled(0.0);
  s[prefix + ".op_bn.running_var"] = filled(1.0);
}

// Net2Net's wider on layer i of `a` (filters f -> f2) and its reader.
void widen(HostState& s, const ChainArch& a, size_t i, int64_t f2, Generator& gen) {
  const ChainLayer& l = a.layers[i];
  const int64_t f = l.filters;
  std::vector<int64_t> from(static_cast<size_t>(f2));
  std::vector<double> copies(static_cast<size_t>(f), 0.0);
  for (int64_t j = 0; j < f2; ++j) {
    from[static_cast<size_t>(j)] = j < f ? j : gen.next_int(0, f);
    copies[static_cast<size_t>(from[static_cast<size_t>(j)])] += 1.0;
  }
  std::vector<double> divisor(static_cast<size_t>(f2));
  for (size_t j = 0; j < from.size(); ++j) divisor[j] = copies[static_cast<size_t>(from[j])];

  const std::string what = "widen";
  const std::string p = layer_name(i);
  const bool conv = l.type == ChainLayerType::kConv;
  const std::string out_w = p + (conv ? ".op_conv.weight" : ".2.weight");  // [f, k, k, c_in]
  s[out_w] = morph::gather(morph::entry(s, out_w, what), 0, from);
  for (const char* field : kBnFields) {
    const std::string key = p + (conv ? ".op_bn." : ".3.") + field;
    s[key] = morph::gather(morph::entry(s, key, what), 0, from);
  }

  const size_t r = reader_of(a, i);
  if (r == a.layers.size()) {
    // Global average pooling keeps channels apart, so the classifier's columns see the copies.
    s["classifier.weight"] =
        morph::gather(morph::entry(s, "classifier.weight", what), 1, from, divisor);
    return;
  }
  const std::string q = layer_name(r);
  if (a.layers[r].type == ChainLayerType::kConv) {
    const std::string key = q + ".op_conv.weight";  // [f3, k, k, f]
    s[key] = morph::gather(morph::entry(s, key, what), 3, from, divisor);
  } else {
    // The depthwise filter acts per channel, so copying it keeps copied channels equal; the 1x1
    // conv then sums them.
    s[q + ".1.weight"] = morph::gather(morph::entry(s, q + ".1.weight", what), 0, from);
    s[q + ".2.weight"] = morph::gather(morph::entry(s, q + ".2.weight", what), 3, from, divisor);
  }
}

}  // namespace

std::vector<Morphism> applicable_morphisms(const ChainArch& arch, const ChainSpace& space) {
  space.validate(to_json(arch));
  const ChainOptions& o = space.options();
  const std::vector<int64_t> kernels = sorted_unique(o.kernels), filters = sorted_unique(o.filters);
  const size_t n = arch.layers.size();
  std::vector<Morphism> out;
  if (static_cast<int>(n) < o.max_layers) {
    for (size_t p = 0; p <= n; ++p) {
      if (!relu_absorbed_at(arch, p) ||
          !contains(filters, channels_before(arch, p, o.stem_channels)))
        continue;
      for (int64_t k : kernels) out.push_back({MorphismKind::kDeepen, static_cast<int>(p), k});
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const ChainLayer& l = arch.layers[i];
    if (!has_filters(l.type)) continue;
    for (int64_t f : filters)
      if (f > l.filters) out.push_back({MorphismKind::kWiden, static_cast<int>(i), f});
  }
  for (size_t i = 0; i < n; ++i) {
    const ChainLayer& l = arch.layers[i];
    if (!has_filters(l.type)) continue;  // pools have a kernel, but a larger one changes them
    for (int64_t k : kernels)
      if (k > l.kernel) out.push_back({MorphismKind::kGrowKernel, static_cast<int>(i), k});
  }
  return out;
}

ChainArch morph_arch(const ChainArch& arch, const ChainSpace& space, const Morphism& m) {
  check_applicable(applicable_morphisms(arch, space), m, to_text(arch));
  ChainArch child = arch;
  const auto i = static_cast<size_t>(m.layer);
  switch (m.kind) {
    case MorphismKind::kDeepen: {
      const int64_t c = channels_before(arch, i, space.options().stem_channels);
      child.layers.insert(child.layers.begin() + m.layer,
                          ChainLayer{ChainLayerType::kConv, m.value, c, 1});
      break;
    }
    case MorphismKind::kWiden:
      child.layers[i].filters = m.value;
      break;
    case MorphismKind::kGrowKernel:
      child.layers[i].kernel = m.value;
      break;
    case MorphismKind::kAddSkip:
      FUSENAS_FAIL("add_skip is not a chain morphism");
  }
  space.validate(to_json(child));
  return child;
}

MorphedChain apply_morphism(const ChainNetwork& parent, const ChainArch& parent_arch,
                            const ChainSpace& space, const Morphism& m, Generator& gen) {
  ChainArch child_arch = morph_arch(parent_arch, space, m);
  const int64_t stem = space.options().stem_channels;
  const ImageShape& shape = parent.shape();
  const int64_t expected = chain_parameter_count(parent_arch, stem, shape);
  FUSENAS_CHECK(parent.num_parameters() == expected,
                "{}: the parent network has {} parameters, but '{}' with a stem of {} channels has "
                "{}; is it the network of that architecture?",
                to_text(m), parent.num_parameters(), to_text(parent_arch), stem, expected);

  HostState s = morph::read_state(parent);
  const auto i = static_cast<size_t>(m.layer);
  if (m.kind == MorphismKind::kWiden) widen(s, parent_arch, i, m.value, gen);
  if (m.kind == MorphismKind::kGrowKernel) {
    const std::string key =
        layer_name(i) +
        (parent_arch.layers[i].type == ChainLayerType::kConv ? ".op_conv.weight" : ".1.weight");
    s[key] = morph::pad_kernel(morph::entry(s, key, "grow_kernel"), m.value);
  }

  auto child = std::make_shared<ChainNetwork>(child_arch, stem, shape, gen);
  if (m.kind == MorphismKind::kDeepen) {
    s = shift_layers(s, i);
    double eps = -1;
    for (const auto& [name, module] : child->named_modules())
      if (name == layer_name(i) + ".op_bn") eps = dynamic_cast<nn::BatchNorm2d&>(*module).eps();
    FUSENAS_CHECK(eps >= 0, "deepen: the child network has no BN at layer {}", i);
    identity_layer(s, layer_name(i), child_arch.layers[i].filters, m.value, eps);
  }
  morph::hand_over(*child, parent, s, /*complete=*/true, to_text(m));
  return {std::move(child_arch), m, std::move(child)};
}

MorphedChain apply_random_morphism(const ChainNetwork& parent, const ChainArch& parent_arch,
                                   const ChainSpace& space, Generator& gen) {
  const Morphism m =
      morph::pick(applicable_morphisms(parent_arch, space), gen, "'" + to_text(parent_arch) + "'");
  return apply_morphism(parent, parent_arch, space, m, gen);
}

}  // namespace fusenas::nas::space
