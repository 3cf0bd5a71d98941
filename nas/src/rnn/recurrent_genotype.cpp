// RecurrentGenotype validation, the DARTS text form (printer and parser), JSON and built-ins.
#include "fusenas/nas/rnn/recurrent_genotype.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <set>

#include "fusenas/engine/error.h"
#include "rnn/json_fields.h"

namespace fusenas::nas::rnn {
namespace {

constexpr size_t kMaxTextBytes = 64 * 1024;
// Any larger integer names no state; keeps range arithmetic far from overflow.
constexpr long kMaxTextInteger = 1000;

// Recursive descent over the Python-literal subset DARTS prints for a recurrent genotype.
class TextParser {
 public:
  explicit TextParser(const std::string& text) : s_(text) {}

  RecurrentGenotype parse() {
    FUSENAS_CHECK(s_.size() <= kMaxTextBytes,
                  "recurrent genotype text has {} bytes; the limit is {}", s_.size(),
                  kMaxTextBytes);
    RecurrentGenotype g;
    expect_word("Genotype");
    expect('(');
    expect_word("recurrent");
    expect('=');
    expect('[');
    if (!accept(']')) {
      do {
        if (peek() == ']') break;  // a trailing comma
        FUSENAS_CHECK(static_cast<int>(g.recurrent.size()) < kMaxRecurrentSteps,
                      "recurrent genotype text: more than {} nodes", kMaxRecurrentSteps);
        g.recurrent.push_back(edge());
      } while (accept(','));
      expect(']');
    }
    expect(',');
    expect_word("concat");
    expect('=');
    g.concat = concat();
    accept(',');
    expect(')');
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the closing ')'");
    return g;
  }

 private:
  RecurrentEdge edge() {
    expect('(');
    const std::string name = quoted();
    if (name == "none") fail("'none' belongs to the search space only; a genotype cannot use it");
    const RnnActivation op = activation_from_name(name, fmt::format("recurrent genotype text, "
                                                                    "column {}",
                                                                    pos_ + 1));
    expect(',');
    const int input = static_cast<int>(integer());
    accept(',');
    expect(')');
    return {op, input};
  }

  std::vector<int> concat() {
    std::vector<int> out;
    if (accept('[')) {
      if (accept(']')) return out;
      do {
        if (peek() == ']') break;
        FUSENAS_CHECK(static_cast<int>(out.size()) <= kMaxRecurrentSteps,
                      "recurrent genotype text: the concat names more than {} states",
                      kMaxRecurrentSteps + 1);
        out.push_back(static_cast<int>(integer()));
      } while (accept(','));
      expect(']');
      return out;
    }
    expect_word("range");
    expect('(');
    const long a = integer();
    expect(',');
    const long b = integer();
    expect(')');
    for (long i = a; i < b; ++i) out.push_back(static_cast<int>(i));
    return out;
  }

  long integer() {
    skip_space();
    const size_t start = pos_;
    bool negative = false;
    if (pos_ < s_.size() && s_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    long v = 0;
    size_t digits = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
      if (++digits > 4 || v > kMaxTextInteger) {
        pos_ = start;
        fail(fmt::format("an integer above {}", kMaxTextInteger));
      }
    }
    if (digits == 0) {
      pos_ = start;
      fail("expected an integer");
    }
    return negative ? -v : v;
  }

  std::string quoted() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted name");
    const char q = s_[pos_++];
    const size_t end = s_.find(q, pos_);
    if (end == std::string::npos || end - pos_ > 32) fail("unterminated or overlong quoted name");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  void expect_word(std::string_view word) {
    skip_space();
    if (s_.compare(pos_, word.size(), word) != 0) fail(fmt::format("expected '{}'", word));
    pos_ += word.size();
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}'", c));
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() {
    skip_space();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    FUSENAS_FAIL("malformed recurrent genotype text at column {}: {}", pos_ + 1, what);
  }

  const std::string& s_;
  size_t pos_ = 0;
};

bool contiguous_ascending(const std::vector<int>& v) {
  if (v.size() < 2) return false;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] != v[i - 1] + 1) return false;
  }
  return true;
}

}  // namespace

void RecurrentGenotype::validate() const {
  FUSENAS_CHECK(!recurrent.empty() && steps() <= kMaxRecurrentSteps,
                "recurrent genotype: {} nodes; a cell has 1..{}", steps(), kMaxRecurrentSteps);
  for (int i = 0; i < steps(); ++i) {
    const RecurrentEdge& e = recurrent[static_cast<size_t>(i)];
    FUSENAS_CHECK(valid_activation(e.op),
                  "recurrent genotype: node {} has op value {}, outside 0..{}", i + 1,
                  static_cast<int>(e.op), kNumRnnActivations - 1);
    FUSENAS_CHECK(e.input >= 0 && e.input <= i,
                  "recurrent genotype: node {} reads state {}, but it can only read states 0..{} "
                  "(s_0 and earlier nodes)",
                  i + 1, e.input, i);
  }
  FUSENAS_CHECK(!concat.empty(),
                "recurrent genotype: the concat is empty; h_t averages at least "
                "one state");
  std::set<int> seen;
  for (const int s : concat) {
    FUSENAS_CHECK(s >= 0 && s <= steps(),
                  "recurrent genotype: the concat names state {}, outside the states 0..{}", s,
                  steps());
    FUSENAS_CHECK(seen.insert(s).second, "recurrent genotype: the concat names state {} twice", s);
  }
}

std::string RecurrentGenotype::to_text() const {
  validate();
  std::vector<std::string> edges;
  for (const RecurrentEdge& e : recurrent) {
    edges.push_back(fmt::format("('{}', {})", activation_name(e.op), e.input));
  }
  const std::string c = contiguous_ascending(concat)
                            ? fmt::format("range({}, {})", concat.front(), concat.back() + 1)
                            : fmt::format("[{}]", fmt::join(concat, ", "));
  return fmt::format("Genotype(recurrent=[{}], concat={})", fmt::join(edges, ", "), c);
}

RecurrentGenotype RecurrentGenotype::parse_text(const std::string& text) {
  RecurrentGenotype g = TextParser(text).parse();
  g.validate();
  return g;
}

std::string RecurrentGenotype::to_json() const {
  validate();
  nlohmann::json edges = nlohmann::json::array();
  for (const RecurrentEdge& e : recurrent) edges.push_back({activation_name(e.op), e.input});
  return nlohmann::json{{"recurrent", edges}, {"concat", concat}}.dump();
}

RecurrentGenotype RecurrentGenotype::from_json(const std::string& json) {
  constexpr std::string_view kWhat = "recurrent genotype";
  const nlohmann::json j = detail::parse_object(json, kWhat);
  detail::require_keys(j, {"recurrent", "concat"}, kWhat);
  const auto& edges = j.at("recurrent");
  const auto& concat = j.at("concat");
  FUSENAS_CHECK(edges.is_array() && edges.size() <= kMaxRecurrentSteps,
                "malformed recurrent genotype JSON: 'recurrent' must be an array of at most {} "
                "[\"op\", input] pairs",
                kMaxRecurrentSteps);
  FUSENAS_CHECK(concat.is_array() && concat.size() <= kMaxRecurrentSteps + 1,
                "malformed recurrent genotype JSON: 'concat' must be an array of at most {} states",
                kMaxRecurrentSteps + 1);
  RecurrentGenotype g;
  for (const auto& e : edges) {
    const std::string where = fmt::format("recurrent genotype node {}", g.recurrent.size() + 1);
    FUSENAS_CHECK(e.is_array() && e.size() == 2,
                  "malformed recurrent genotype JSON: {} must be [\"op\", input], got {}", where,
                  e.dump());
    const std::string op = detail::string_field(e.at(0), where);
    FUSENAS_CHECK(op != "none", "{}: 'none' belongs to the search space only", where);
    g.recurrent.push_back({activation_from_name(op, where), detail::int_field(e.at(1), where)});
  }
  for (const auto& s : concat) g.concat.push_back(detail::int_field(s, "a concat state"));
  g.validate();
  return g;
}

RecurrentGenotype darts_v1_recurrent() {
  using A = RnnActivation;
  return {{{A::kRelu, 0},
           {A::kRelu, 1},
           {A::kTanh, 2},
           {A::kRelu, 3},
           {A::kRelu, 4},
           {A::kIdentity, 1},
           {A::kRelu, 5},
           {A::kRelu, 1}},
          {1, 2, 3, 4, 5, 6, 7, 8}};
}

RecurrentGenotype darts_v2_recurrent() {
  using A = RnnActivation;
  return {{{A::kSigmoid, 0},
           {A::kRelu, 1},
           {A::kRelu, 1},
           {A::kIdentity, 1},
           {A::kTanh, 2},
           {A::kSigmoid, 5},
           {A::kTanh, 3},
           {A::kRelu, 5}},
          {1, 2, 3, 4, 5, 6, 7, 8}};
}

RecurrentGenotype builtin_recurrent_genotype(const std::string& name) {
  if (name == "DARTS_V1") return darts_v1_recurrent();
  if (name == "DARTS_V2" || name == "DARTS") return darts_v2_recurrent();
  FUSENAS_FAIL("unknown built-in recurrent genotype '{}'; known: DARTS_V1, DARTS_V2, DARTS", name);
}

}  // namespace fusenas::nas::rnn
