// Genotype validation, the DARTS text form (printer and parser) and JSON conversion.
#include "fusenas/nas/genotype.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"

namespace fusenas::nas {
namespace {

void validate_cell(const char* which, const std::vector<GenotypeEdge>& edges,
                   const std::vector<int>& concat) {
  FUSENAS_CHECK(!edges.empty() && edges.size() % 2 == 0,
                "genotype: the {} cell has {} edges; each node needs exactly 2", which,
                edges.size());
  const int states = 2 + static_cast<int>(edges.size() / 2);
  for (size_t e = 0; e < edges.size(); ++e) {
    const int node = static_cast<int>(e / 2);
    FUSENAS_CHECK(is_known_op(edges[e].op), "genotype: unknown op '{}' in the {} cell (known: {})",
                  edges[e].op, which, fmt::join(known_ops(), ", "));
    FUSENAS_CHECK(
        edges[e].input >= 0 && edges[e].input < 2 + node,
        "genotype: edge {} of the {} cell reads state {}, but node {} can only read states 0..{}",
        e, which, edges[e].input, node + 2, node + 1);
  }
  FUSENAS_CHECK(!concat.empty(), "genotype: the {} cell concatenates no states", which);
  for (int c : concat) {
    FUSENAS_CHECK(c >= 0 && c < states,
                  "genotype: the {} cell concatenates state {}, outside 0..{}", which, c,
                  states - 1);
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

// Recursive-descent reader for the Python-literal subset the text form uses.
class TextParser {
 public:
  explicit TextParser(const std::string& text) : s_(text) {}

  Genotype parse() {
    skip();
    expect_word("Genotype");
    expect('(');
    Genotype g;
    bool seen[4] = {false, false, false, false};
    while (true) {
      skip();
      if (peek() == ')') break;
      const std::string key = word();
      expect('=');
      if (key == "normal") {
        g.normal = edges(), seen[0] = true;
      } else if (key == "normal_concat") {
        g.normal_concat = ints(), seen[1] = true;
      } else if (key == "reduce") {
        g.reduce = edges(), seen[2] = true;
      } else if (key == "reduce_concat") {
        g.reduce_concat = ints(), seen[3] = true;
      } else {
        fail(fmt::format("unknown field '{}'", key));
      }
      skip();
      if (peek() == ',') ++pos_;
    }
    expect(')');
    skip();
    if (pos_ != s_.size()) fail("unexpected text after the closing ')'");
    const char* names[4] = {"normal", "normal_concat", "reduce", "reduce_concat"};
    for (int i = 0; i < 4; ++i) {
      if (!seen[i]) fail(fmt::format("missing field '{}'", names[i]));
    }
    return g;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    FUSENAS_FAIL("malformed genotype text at character {}: {}", pos_, what);
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
    if (word() != w) fail(fmt::format("expected '{}'", w));
  }
  int integer() {
    skip();
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (start == pos_ || (pos_ - start == 1 && s_[start] == '-')) fail("expected an integer");
    return std::stoi(s_.substr(start, pos_ - start));
  }
  std::string quoted() {
    skip();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted op name");
    const size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != q) ++pos_;
    if (pos_ >= s_.size()) fail("unterminated string");
    return s_.substr(start, pos_++ - start);
  }
  // [('op', i), ...] or [[('op', i), ('op', j)], ...]
  std::vector<GenotypeEdge> edges() {
    std::vector<GenotypeEdge> out;
    expect('[');
    read_edge_list(out);
    return out;
  }
  void read_edge_list(std::vector<GenotypeEdge>& out) {
    while (true) {
      skip();
      if (peek() == ']') {
        ++pos_;
        return;
      }
      if (peek() == '[') {
        ++pos_;
        read_edge_list(out);
      } else {
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
      expect_word("range");
      expect('(');
      const int a = integer();
      expect(',');
      const int b = integer();
      expect(')');
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
      out.push_back(integer());
      skip();
      if (peek() == ',') ++pos_;
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

void Genotype::validate() const {
  validate_cell("normal", normal, normal_concat);
  validate_cell("reduce", reduce, reduce_concat);
  FUSENAS_CHECK(normal.size() == reduce.size(),
                "genotype: normal cell has {} nodes but reduce cell has {}", normal.size() / 2,
                reduce.size() / 2);
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
  Genotype g;
  try {
    const auto j = nlohmann::json::parse(text);
    auto cell = [](const nlohmann::json& a) {
      std::vector<GenotypeEdge> edges;
      for (const auto& e : a) edges.push_back({e.at(0).get<std::string>(), e.at(1).get<int>()});
      return edges;
    };
    g.normal = cell(j.at("normal"));
    g.normal_concat = j.at("normal_concat").get<std::vector<int>>();
    g.reduce = cell(j.at("reduce"));
    g.reduce_concat = j.at("reduce_concat").get<std::vector<int>>();
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("malformed genotype JSON: {}", e.what());
  }
  g.validate();
  return g;
}

Genotype load_genotype_file(const std::string& path) {
  std::ifstream in(path);
  FUSENAS_CHECK(in.good(), "cannot open genotype file {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t first = text.find_first_not_of(" \t\r\n");
  try {
    if (first != std::string::npos && text[first] == '{') return Genotype::from_json(text);
    return Genotype::parse_text(text);
  } catch (const Error& e) {
    FUSENAS_FAIL("{}: {}", path, e.what());
  }
}

}  // namespace fusenas::nas
