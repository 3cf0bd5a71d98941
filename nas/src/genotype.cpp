// Genotype validation, the DARTS text form (printer and parser) and JSON conversion.
#include "fusenas/nas/genotype.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"

namespace fusenas::nas {
namespace {

// A user's text may be anything: messages quote at most this much of it.
std::string excerpt(const std::string& s) {
  return s.size() <= 40 ? s : s.substr(0, 37) + "...";
}

void validate_cell(const char* which, const std::vector<GenotypeEdge>& edges,
                   const std::vector<int>& concat, bool reduction) {
  FUSENAS_CHECK(!edges.empty() && edges.size() % 2 == 0,
                "genotype: the {} cell has {} edges; each node needs exactly 2", which,
                edges.size());
  FUSENAS_CHECK(edges.size() <= 2 * static_cast<size_t>(kMaxGenotypeNodes),
                "genotype: the {} cell has {} nodes; the limit is {}", which, edges.size() / 2,
                kMaxGenotypeNodes);
  const int states = 2 + static_cast<int>(edges.size() / 2);
  for (size_t e = 0; e < edges.size(); ++e) {
    const int node = static_cast<int>(e / 2);
    FUSENAS_CHECK(is_known_op(edges[e].op), "genotype: unknown op '{}' in the {} cell (known: {})",
                  excerpt(edges[e].op), which, fmt::join(known_ops(), ", "));
    FUSENAS_CHECK(
        edges[e].input >= 0 && edges[e].input < 2 + node,
        "genotype: edge {} of the {} cell reads state {}, but node {} can only read states 0..{}",
        e, which, edges[e].input, node + 2, node + 1);
  }
  FUSENAS_CHECK(!concat.empty(), "genotype: the {} cell concatenates no states", which);
  FUSENAS_CHECK(concat.size() <= static_cast<size_t>(kMaxGenotypeConcat),
                "genotype: the {} cell concatenates {} states; the limit is {}", which,
                concat.size(), kMaxGenotypeConcat);
  for (int c : concat) {
    FUSENAS_CHECK(c >= 0 && c < states,
                  "genotype: the {} cell concatenates state {}, outside 0..{}", which, c,
                  states - 1);
    // Its nodes are at half the inputs' resolution, so an input cannot join their concat, and an
    // output of inputs alone would not be reduced.
    FUSENAS_CHECK(!reduction || c >= 2,
                  "genotype: the {} cell concatenates state {}, a cell input; a reduction cell "
                  "may concatenate only its nodes (states 2..{}), which are at half the inputs' "
                  "resolution",
                  which, c, states - 1);
  }
}

std::string cell_text(const std::vector<GenotypeEdge>& edges) {
  std::string s = "[";
  for (size_t i = 0; i < edges.size(); ++i) {
    if (i) s += ", ";
    s += fmt::format("('{}', {})", edges[i].op, edges[i].input);
  }
  return s + "]";
}

// Recursive-descent reader for the Python-literal subset the text form uses. Every size it reads
// is bounded (the kMaxGenotype* limits), so no input can recurse deeply or allocate much.
class TextParser {
 public:
  explicit TextParser(const std::string& text) : s_(text) {}

  Genotype parse() {
    if (s_.size() > kMaxGenotypeTextBytes) {
      FUSENAS_FAIL("genotype text has {} bytes; the limit is {}", s_.size(), kMaxGenotypeTextBytes);
    }
    skip();
    expect_word("Genotype");
    expect('(');
    Genotype g;
    const char* names[4] = {"normal", "normal_concat", "reduce", "reduce_concat"};
    bool seen[4] = {false, false, false, false};
    while (true) {
      skip();
      if (peek() == ')') break;
      const size_t key_pos = pos_;
      const std::string key = word();
      int field = 0;
      while (field < 4 && key != names[field]) ++field;
      if (field == 4) fail_at(key_pos, fmt::format("unknown field '{}'", excerpt(key)));
      if (seen[field]) fail_at(key_pos, fmt::format("field '{}' appears twice", key));
      seen[field] = true;
      expect('=');
      if (field == 0) g.normal = edges();
      if (field == 1) g.normal_concat = ints();
      if (field == 2) g.reduce = edges();
      if (field == 3) g.reduce_concat = ints();
      skip();
      if (peek() == ',') ++pos_;
    }
    expect(')');
    skip();
    if (pos_ != s_.size()) fail("unexpected text after the closing ')'");
    for (int i = 0; i < 4; ++i) {
      if (!seen[i]) fail(fmt::format("missing field '{}'", names[i]));
    }
    return g;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line, column = 1;
      } else {
        ++column;
      }
    }
    FUSENAS_FAIL("malformed genotype text at line {}, column {}: {}", line, column, what);
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string word() {
    skip();
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    if (start == pos_) fail("expected a name");
    return s_.substr(start, pos_ - start);
  }
  void expect_word(const char* w) {
    const size_t start = pos_;
    if (word() != w) fail_at(start, fmt::format("expected '{}'", w));
  }
  int integer() {
    skip();
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    const size_t digits = pos_;
    long value = 0;  // saturates just past the limit, so no digit string can overflow it
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      value = std::min<long>(10 * value + (s_[pos_] - '0'), kMaxGenotypeInteger + 1L);
      ++pos_;
    }
    if (pos_ == digits) fail_at(start, "expected an integer");
    if (value > kMaxGenotypeInteger) {
      fail_at(start,
              fmt::format("integer {} is outside -{}..{}", excerpt(s_.substr(start, pos_ - start)),
                          kMaxGenotypeInteger, kMaxGenotypeInteger));
    }
    return static_cast<int>(s_[start] == '-' ? -value : value);
  }
  std::string quoted() {
    skip();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted op name");
    const size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != q) ++pos_;
    if (pos_ >= s_.size()) fail_at(start - 1, "unterminated string");
    return s_.substr(start, pos_++ - start);
  }
  // [('op', i), ...] or [[('op', i), ('op', j)], ...]
  std::vector<GenotypeEdge> edges() {
    std::vector<GenotypeEdge> out;
    expect('[');
    read_edge_list(out, 1);
    return out;
  }
  void read_edge_list(std::vector<GenotypeEdge>& out, int depth) {
    while (true) {
      skip();
      if (peek() == ']') {
        ++pos_;
        return;
      }
      if (peek() == '[') {
        if (depth == kMaxGenotypeNesting) {
          fail(fmt::format("brackets nested deeper than {} levels", kMaxGenotypeNesting));
        }
        ++pos_;
        read_edge_list(out, depth + 1);
      } else {
        if (out.size() == 2 * static_cast<size_t>(kMaxGenotypeNodes)) {
          fail(fmt::format("a cell has more than {} edges ({} nodes, the limit)",
                           2 * kMaxGenotypeNodes, kMaxGenotypeNodes));
        }
        expect('(');
        GenotypeEdge e;
        e.op = quoted();
        expect(',');
        e.input = integer();
        expect(')');
        out.push_back(e);
      }
      skip();
      if (peek() == ',') ++pos_;
    }
  }
  // [2, 3, 4] or range(a, b)
  std::vector<int> ints() {
    skip();
    std::vector<int> out;
    if (peek() == 'r') {
      const size_t start = pos_;
      expect_word("range");
      expect('(');
      const int a = integer();
      expect(',');
      const int b = integer();
      expect(')');
      if (b - a > kMaxGenotypeConcat) {
        fail_at(start, fmt::format("range({}, {}) names {} states; a concat holds at most {}", a, b,
                                   b - a, kMaxGenotypeConcat));
      }
      for (int i = a; i < b; ++i) out.push_back(i);
      return out;
    }
    expect('[');
    while (true) {
      skip();
      if (peek() == ']') {
        ++pos_;
        return out;
      }
      if (out.size() == static_cast<size_t>(kMaxGenotypeConcat)) {
        fail(fmt::format("a concat holds more than {} states (the limit)", kMaxGenotypeConcat));
      }
      out.push_back(integer());
      skip();
      if (peek() == ',') ++pos_;
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

// JSON values are checked, not cast: get<int>() turns 4294967296 into 0, 1.9 into 1, true into 1.
int json_int(const nlohmann::json& v, const std::string& key) {
  const bool in_range =
      v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(kMaxGenotypeInteger)
      : v.is_number_integer()
          ? v.get<int64_t>() >= -kMaxGenotypeInteger && v.get<int64_t>() <= kMaxGenotypeInteger
          : false;
  FUSENAS_CHECK(in_range, "malformed genotype JSON: {} must be an integer in -{}..{}, got {}", key,
                kMaxGenotypeInteger, kMaxGenotypeInteger, excerpt(v.dump()));
  return static_cast<int>(v.get<int64_t>());
}

const nlohmann::json& json_array(const nlohmann::json& j, const char* key, size_t limit,
                                 const char* what) {
  FUSENAS_CHECK(j.contains(key), "malformed genotype JSON: missing key '{}'", key);
  const nlohmann::json& a = j[key];
  FUSENAS_CHECK(a.is_array(), "malformed genotype JSON: '{}' must be an array, got {}", key,
                a.type_name());
  FUSENAS_CHECK(a.size() <= limit, "malformed genotype JSON: '{}' has {} {}; the limit is {}", key,
                a.size(), what, limit);
  return a;
}

std::vector<GenotypeEdge> json_edges(const nlohmann::json& j, const char* key) {
  const auto& a = json_array(j, key, 2 * static_cast<size_t>(kMaxGenotypeNodes), "edges");
  std::vector<GenotypeEdge> edges;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string where = fmt::format("'{}'[{}]", key, i);
    const nlohmann::json& e = a[i];
    FUSENAS_CHECK(e.is_array() && e.size() == 2 && e[0].is_string(),
                  "malformed genotype JSON: {} must be [\"op\", input], got {}", where,
                  excerpt(e.dump()));
    edges.push_back({e[0].get<std::string>(), json_int(e[1], where + "[1]")});
  }
  return edges;
}

std::vector<int> json_concat(const nlohmann::json& j, const char* key) {
  const auto& a = json_array(j, key, kMaxGenotypeConcat, "entries");
  std::vector<int> concat;
  for (size_t i = 0; i < a.size(); ++i) {
    concat.push_back(json_int(a[i], fmt::format("'{}'[{}]", key, i)));
  }
  return concat;
}

}  // namespace

// The cells are built apart, so the two may have different node counts.
void Genotype::validate() const {
  validate_cell("normal", normal, normal_concat, false);
  validate_cell("reduce", reduce, reduce_concat, true);
}

std::string Genotype::to_text() const {
  return fmt::format("Genotype(normal={}, normal_concat=[{}], reduce={}, reduce_concat=[{}])",
                     cell_text(normal), fmt::join(normal_concat, ", "), cell_text(reduce),
                     fmt::join(reduce_concat, ", "));
}

Genotype Genotype::parse_text(const std::string& text) {
  Genotype g = TextParser(text).parse();
  g.validate();
  return g;
}

std::string Genotype::to_json() const {
  auto cell = [](const std::vector<GenotypeEdge>& edges) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : edges) a.push_back({e.op, e.input});
    return a;
  };
  nlohmann::json j = {{"normal", cell(normal)},
                      {"normal_concat", normal_concat},
                      {"reduce", cell(reduce)},
                      {"reduce_concat", reduce_concat}};
  return j.dump(2);
}

Genotype Genotype::from_json(const std::string& text) {
  FUSENAS_CHECK(text.size() <= kMaxGenotypeTextBytes, "genotype JSON has {} bytes; the limit is {}",
                text.size(), kMaxGenotypeTextBytes);
  Genotype g;
  try {
    // nlohmann parses and frees without recursion, so deep nesting costs only memory, which the
    // size limit bounds.
    const auto j = nlohmann::json::parse(text);
    FUSENAS_CHECK(j.is_object(), "malformed genotype JSON: expected an object, got {}",
                  j.type_name());
    g.normal = json_edges(j, "normal");
    g.normal_concat = json_concat(j, "normal_concat");
    g.reduce = json_edges(j, "reduce");
    g.reduce_concat = json_concat(j, "reduce_concat");
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("malformed genotype JSON: {}", e.what());
  }
  g.validate();
  return g;
}

Genotype load_genotype_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FUSENAS_CHECK(in.good(), "cannot open genotype file {}", path);
  // Reads one byte past the limit, so a huge file is refused without being read.
  std::string text(kMaxGenotypeTextBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  FUSENAS_CHECK(!in.bad(), "cannot read genotype file {}", path);
  text.resize(static_cast<size_t>(in.gcount()));
  FUSENAS_CHECK(text.size() <= kMaxGenotypeTextBytes,
                "genotype file {} is larger than the limit of {} bytes", path,
                kMaxGenotypeTextBytes);
  const size_t first = text.find_first_not_of(" \t\r\n");
  try {
    if (first != std::string::npos && text[first] == '{') return Genotype::from_json(text);
    return Genotype::parse_text(text);
  } catch (const Error& e) {
    // Rethrown as it is, with the path in front: one file:line tag, the parser's.
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace fusenas::nas
