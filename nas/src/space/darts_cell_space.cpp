// The darts-cell space: genotype points, their checks, sampling, mutation, encodings, and the
// evaluation network they build.
#include "fusenas/nas/space/darts_cell_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"
#include "fusenas/nas/space/cell_network.h"
#include "space/json_read.h"

namespace fusenas::nas::space {
namespace {

using detail::element;
using detail::JsonReader;

constexpr const char* kCells[2] = {"normal", "reduce"};
constexpr const char* kConcats[2] = {"normal_concat", "reduce_concat"};

std::vector<GenotypeEdge>& cell_edges(Genotype& g, int cell) {
  return cell == 0 ? g.normal : g.reduce;
}

// A node's edges listed by input, so one architecture has one JSON form (strategies and the trial
// database recognise repeats by their JSON text).
void order_node(std::vector<GenotypeEdge>& edges, size_t node) {
  auto& a = edges[2 * node];
  auto& b = edges[2 * node + 1];
  if (b.input < a.input) std::swap(a, b);
}

// What one edge's module holds (cell_ops.cpp's make_cell_op with affine BN), c channels.
int64_t op_parameters(const std::string& op, int64_t c, int64_t stride) {
  const auto sep = [&](int64_t k) { return c * k * k + c * c + 2 * c; };  // dw, 1x1, BN
  if (op == "none" || op == "max_pool_3x3" || op == "avg_pool_3x3") return 0;
  if (op == "skip_connect") return stride == 1 ? 0 : c * c + 2 * c;  // FactorizedReduce(c, c)
  if (op == "sep_conv_3x3") return 2 * sep(3);
  if (op == "sep_conv_5x5") return 2 * sep(5);
  if (op == "sep_conv_7x7") return 2 * sep(7);
  if (op == "dil_conv_3x3") return sep(3);
  if (op == "dil_conv_5x5") return sep(5);
  if (op == "conv_7x1_1x7") return 14 * c * c + 2 * c;
  if (op == "conv_3x3") return 9 * c * c + 2 * c;
  if (op == "conv_5x5") return 25 * c * c + 2 * c;
  FUSENAS_FAIL("darts-cell: no parameter count for op '{}'", op);
}

}  // namespace

std::vector<std::string> DartsCellOptions::default_ops() {
  std::vector<std::string> ops;
  for (const auto& op : darts_primitives())
    if (op != "none") ops.push_back(op);
  return ops;
}

void DartsCellOptions::validate() const {
  FUSENAS_CHECK(nodes >= 1 && nodes <= kMaxGenotypeNodes,
                "darts-cell options: nodes must lie in [1, {}], got {}", kMaxGenotypeNodes, nodes);
  FUSENAS_CHECK(!ops.empty(), "darts-cell options: ops must name at least one op");
  for (size_t i = 0; i < ops.size(); ++i) {
    FUSENAS_CHECK(is_known_op(ops[i]), "darts-cell options: ops[{}] '{}' is not a known op ({})", i,
                  ops[i].substr(0, 40), fmt::join(known_ops(), ", "));
    FUSENAS_CHECK(ops[i] != "none",
                  "darts-cell options: ops[{}] is 'none'; a derived cell never keeps it", i);
    FUSENAS_CHECK(std::find(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(i), ops[i]) ==
                      ops.begin() + static_cast<std::ptrdiff_t>(i),
                  "darts-cell options: ops[{}] '{}' is listed twice", i, ops[i]);
  }
  FUSENAS_CHECK(
      nodes > 1 || ops.size() > 1,
      "darts-cell options: 1 node and 1 op make a space of one point, which cannot mutate");
  FUSENAS_CHECK(init_channels >= 1 && init_channels <= 1024,
                "darts-cell options: init_channels must lie in [1, 1024], got {}", init_channels);
  FUSENAS_CHECK(cells >= 3 && cells <= 100,
                "darts-cell options: cells must lie in [3, 100] (two of them reduce), got {}",
                cells);
  FUSENAS_CHECK(encoding == "adjacency" || encoding == "path",
                "darts-cell options: encoding must be \"adjacency\" or \"path\", got \"{}\"",
                encoding.substr(0, 40));
  FUSENAS_CHECK(path_max_length >= 0 && path_max_length <= nodes,
                "darts-cell options: path_max_length must lie in [0, {}] (0: every path), got {}",
                nodes, path_max_length);
  const int length = path_max_length == 0 ? nodes : path_max_length;
  FUSENAS_CHECK(
      encoding != "path" || CellPathEncoding::fits(static_cast<int64_t>(ops.size()), length),
      "darts-cell options: the path encoding of {} ops and paths of up to {} edges would "
      "exceed {} entries; set path_max_length lower",
      ops.size(), length, kMaxPathEncodingSize);
}

nlohmann::json DartsCellOptions::to_json() const {
  return {{"nodes", nodes}, {"ops", ops},           {"init_channels", init_channels},
          {"cells", cells}, {"encoding", encoding}, {"path_max_length", path_max_length}};
}

DartsCellOptions DartsCellOptions::from_json(const nlohmann::json& j) {
  const JsonReader r("darts-cell options", "the object");
  r.object(j, "", {}, {"nodes", "ops", "init_channels", "cells", "encoding", "path_max_length"});
  DartsCellOptions o;
  if (j.contains("nodes"))
    o.nodes = static_cast<int>(r.integer(j["nodes"], "nodes", 1, kMaxGenotypeNodes));
  if (j.contains("ops")) {
    r.array(j["ops"], "ops", 1, known_ops().size());
    o.ops.clear();
    for (size_t i = 0; i < j["ops"].size(); ++i)
      o.ops.push_back(r.string(j["ops"][i], element("ops", i)));
  }
  if (j.contains("init_channels"))
    o.init_channels = r.integer(j["init_channels"], "init_channels", 1, 1024);
  if (j.contains("cells")) o.cells = static_cast<int>(r.integer(j["cells"], "cells", 3, 100));
  if (j.contains("encoding")) o.encoding = r.string(j["encoding"], "encoding");
  if (j.contains("path_max_length")) {
    o.path_max_length =
        static_cast<int>(r.integer(j["path_max_length"], "path_max_length", 0, kMaxGenotypeNodes));
  }
  o.validate();
  return o;
}

DartsCellSpace::DartsCellSpace(DartsCellOptions options) : options_(std::move(options)) {
  options_.validate();
  const int length = options_.path_max_length == 0 ? options_.nodes : options_.path_max_length;
  if (CellPathEncoding::fits(static_cast<int64_t>(options_.ops.size()), length))
    path_.emplace(options_.ops, options_.nodes, length);
}

const CellPathEncoding& DartsCellSpace::path_encoding() const {
  FUSENAS_CHECK(path_.has_value(),
                "darts-cell: the path encoding of {} ops and {} nodes would exceed {} entries; set "
                "path_max_length lower",
                options_.ops.size(), options_.nodes, kMaxPathEncodingSize);
  return *path_;
}

Genotype DartsCellSpace::genotype(const Point& p) const {
  const JsonReader r("darts-cell");
  r.object(p, "", {"normal", "normal_concat", "reduce", "reduce_concat"});
  const auto n = static_cast<size_t>(options_.nodes);
  Genotype g;
  for (int cell = 0; cell < 2; ++cell) {
    const nlohmann::json& edges = p[kCells[cell]];
    r.array(edges, kCells[cell], 2 * n, 2 * n);
    auto& out = cell_edges(g, cell);
    for (size_t e = 0; e < edges.size(); ++e) {
      const std::string where = element(kCells[cell], e);
      r.array(edges[e], where, 2, 2);
      const std::string op = r.string(edges[e][0], element(where, 0));
      if (std::find(options_.ops.begin(), options_.ops.end(), op) == options_.ops.end()) {
        r.fail(element(where, 0),
               fmt::format("must be one of the space's ops ({}), got {}",
                           fmt::join(options_.ops, ", "), detail::describe(edges[e][0])));
      }
      const int node = static_cast<int>(e / 2);
      const auto input = static_cast<int>(r.integer(edges[e][1], element(where, 1), 0, INT_MAX));
      if (input > node + 1) {
        r.fail(element(where, 1),
               fmt::format("is state {}, but node {} (state {}) may read only states 0..{}", input,
                           node, node + 2, node + 1));
      }
      if (e % 2 == 1 && input == out.back().input) {
        r.fail(element(where, 1),
               fmt::format("is state {} again; a node reads two distinct states", input));
      }
      out.push_back({op, input});
    }
    const nlohmann::json& concat = p[kConcats[cell]];
    const auto every_node = [&] {
      std::vector<int> v;
      for (int i = 0; i < options_.nodes; ++i) v.push_back(2 + i);
      return v;
    }();
    const std::string rule = fmt::format("must be [{}] (every intermediate node, in order)",
                                         fmt::join(every_node, ", "));
    if (!concat.is_array() || concat.size() != n) {
      r.fail(kConcats[cell], fmt::format("{}, got {}", rule, detail::describe(concat)));
    }
    for (size_t i = 0; i < n; ++i) {
      const auto& v = concat[i];
      if (!v.is_number_integer() || v.get<int64_t>() != every_node[i])
        r.fail(element(kConcats[cell], i),
               fmt::format("is {}; the concat {}", detail::describe(v), rule));
    }
    (cell == 0 ? g.normal_concat : g.reduce_concat) = every_node;
  }
  g.validate();  // the genotype's own rules, implied by the ones above
  return g;
}

Point DartsCellSpace::point(const Genotype& g) {
  return nlohmann::json::parse(g.to_json());
}

void DartsCellSpace::validate(const Point& p) const {
  (void)genotype(p);
}

Point DartsCellSpace::sample(Generator& gen) const {
  Genotype g;
  const auto num_ops = static_cast<int64_t>(options_.ops.size());
  for (int cell = 0; cell < 2; ++cell) {
    auto& edges = cell_edges(g, cell);
    for (int node = 0; node < options_.nodes; ++node) {
      const int states = node + 2;
      int a = static_cast<int>(gen.next_int(0, states));
      int b = static_cast<int>(gen.next_int(0, states - 1));
      if (b >= a) ++b;  // uniform over the pairs of distinct states
      for (int input : {std::min(a, b), std::max(a, b)})
        edges.push_back({options_.ops[static_cast<size_t>(gen.next_int(0, num_ops))], input});
    }
    std::vector<int> concat;
    for (int i = 0; i < options_.nodes; ++i) concat.push_back(2 + i);
    (cell == 0 ? g.normal_concat : g.reduce_concat) = concat;
  }
  return point(g);
}

Point DartsCellSpace::mutate(const Point& p, Generator& gen) const {
  Genotype g = genotype(p);
  // Every decision that has another valid value: an edge's op when there are two ops or more,
  // an edge's input from node 1 on (node 0's two edges must read states 0 and 1).
  struct Decision {
    int cell;
    size_t edge;
    bool op;
  };
  std::vector<Decision> decisions;
  for (int cell = 0; cell < 2; ++cell) {
    for (size_t e = 0; e < 2 * static_cast<size_t>(options_.nodes); ++e) {
      if (options_.ops.size() > 1) decisions.push_back({cell, e, true});
      if (e >= 2) decisions.push_back({cell, e, false});
    }
  }
  const Decision d =
      decisions[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(decisions.size())))];
  auto& edges = cell_edges(g, d.cell);
  GenotypeEdge& edge = edges[d.edge];
  if (d.op) {
    std::vector<std::string> others;
    for (const auto& op : options_.ops)
      if (op != edge.op) others.push_back(op);
    edge.op = others[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(others.size())))];
  } else {
    const int node = static_cast<int>(d.edge / 2);
    const int sibling = edges[d.edge ^ 1].input;
    std::vector<int> others;
    for (int s = 0; s < node + 2; ++s)
      if (s != edge.input && s != sibling) others.push_back(s);
    edge.input = others[static_cast<size_t>(gen.next_int(0, static_cast<int64_t>(others.size())))];
  }
  order_node(edges, d.edge / 2);
  return point(g);
}

int64_t DartsCellSpace::adjacency_encoding_size() const {
  const int64_t n = options_.nodes;
  // Node i has i + 2 possible inputs: sum = n (n + 3) / 2 per cell.
  return 2 * static_cast<int64_t>(options_.ops.size()) * (n * (n + 3) / 2);
}

std::vector<float> DartsCellSpace::adjacency_encoding(const Point& p) const {
  const Genotype g = genotype(p);
  std::vector<float> v(static_cast<size_t>(adjacency_encoding_size()), 0.0f);
  const auto k = static_cast<int64_t>(options_.ops.size());
  const int64_t per_cell = adjacency_encoding_size() / 2;
  for (int cell = 0; cell < 2; ++cell) {
    const auto& edges = cell == 0 ? g.normal : g.reduce;
    for (size_t e = 0; e < edges.size(); ++e) {
      const auto node = static_cast<int64_t>(e / 2);
      const auto op =
          std::find(options_.ops.begin(), options_.ops.end(), edges[e].op) - options_.ops.begin();
      // Inputs of the nodes before this one: sum_{i < node} (i + 2) = node (node + 3) / 2.
      const int64_t slot = node * (node + 3) / 2 + edges[e].input;
      v[static_cast<size_t>(cell * per_cell + slot * k + op)] = 1.0f;
    }
  }
  return v;
}

std::vector<float> DartsCellSpace::encode(const Point& p) const {
  if (options_.encoding == "path") return path_encoding().encode(genotype(p));
  return adjacency_encoding(p);
}

int64_t DartsCellSpace::encoding_size() const {
  return options_.encoding == "path" ? path_encoding().size() : adjacency_encoding_size();
}

std::string DartsCellSpace::to_text(const Point& p) const {
  return genotype(p).to_text();
}

std::shared_ptr<Network> DartsCellSpace::build(const Point& p, const ImageShape& shape,
                                               Generator& gen) const {
  shape.validate();
  // Both reductions' FactorizedReduce halve a map with stride-2 1x1 convs on it and on it shifted
  // by a pixel; the two halves agree only on even sizes.
  FUSENAS_CHECK(shape.size % 4 == 0,
                "darts-cell: the image size must be a multiple of 4 (two reductions of even maps), "
                "got {}",
                shape.size);
  EvalNetworkConfig c;
  c.genotype = genotype(p);
  c.in_channels = shape.channels;
  c.image_size = shape.size;
  c.num_classes = shape.classes;
  c.init_channels = options_.init_channels;
  c.layers = options_.cells;
  c.auxiliary = false;
  return std::make_shared<CellNetwork>(c, gen);
}

// EvalNetwork's structure, counted: a 3C stem, per cell two 1x1 preprocessings (a FactorizedReduce
// after a reduction has as many weights as the 1x1 conv), the edges' ops, the classifier.
int64_t DartsCellSpace::count_parameters(const Point& p, const ImageShape& shape) const {
  shape.validate();
  const Genotype g = genotype(p);
  const int64_t stem = 3 * options_.init_channels;
  int64_t total = shape.channels * stem * 9 + 2 * stem;
  int64_t c_pp = stem, c_p = stem, c = options_.init_channels;
  for (int i = 0; i < options_.cells; ++i) {
    const bool reduction = i == options_.cells / 3 || i == 2 * options_.cells / 3;
    if (reduction) c *= 2;
    total += (c_pp * c + 2 * c) + (c_p * c + 2 * c);
    for (const auto& e : reduction ? g.reduce : g.normal)
      total += op_parameters(e.op, c, reduction && e.input < 2 ? 2 : 1);
    c_pp = c_p;
    c_p = options_.nodes * c;
  }
  return total + c_p * shape.classes + shape.classes;
}

}  // namespace fusenas::nas::space
