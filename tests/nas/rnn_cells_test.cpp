// The recurrent search cells (nas/rnn): the lecture's worked tree cell against its formulas,
// Zoph & Le's NASCell wiring, DARTS's and ENAS's cells against plain-loop references over several
// steps, their forms and errors, parameter counts at the papers' sizes, and gradient checks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/rnn/darts_recurrent_cell.h"
#include "fusenas/nas/rnn/enas_recurrent.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "fusenas/nas/rnn/tree_cell.h"
#include "support/expect.h"
#include "support/gradcheck.h"

namespace fusenas::nas::rnn {
namespace {

using Vec = std::vector<double>;
const TensorOptions kF64 = TensorOptions{}.with_dtype(DType::Float64);

void expect_close(const Tensor& a, const Vec& b, double tol = 1e-12) {
  const Vec av = a.contiguous().to_vector<double>();
  ASSERT_EQ(av.size(), b.size());
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(av[i], b[i], tol) << "element " << i;
}

void expect_close(const Tensor& a, const Tensor& b, double tol = 1e-12) {
  expect_close(a, b.contiguous().to_vector<double>(), tol);
}

// Row r of W [rows, cols] times v, for rows r0..r0+n-1: the hand-written reference's GEMV.
Vec matvec(const Tensor& w, const Vec& v, int64_t r0, int64_t n) {
  const Vec wv = w.contiguous().to_vector<double>();
  const int64_t cols = w.shape()[1];
  Vec out(static_cast<size_t>(n), 0.0);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t k = 0; k < cols; ++k) {
      out[static_cast<size_t>(r)] +=
          wv[static_cast<size_t>((r0 + r) * cols + k)] * v[static_cast<size_t>(k)];
    }
  }
  return out;
}

double sigm(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}
double act(RnnActivation a, double v) {
  switch (a) {
    case RnnActivation::kTanh:
      return std::tanh(v);
    case RnnActivation::kRelu:
      return v > 0 ? v : 0.0;
    case RnnActivation::kSigmoid:
      return sigm(v);
    case RnnActivation::kIdentity:
      return v;
  }
  return 0;
}
Vec cat(const Vec& a, const Vec& b) {
  Vec out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
Vec row(const Tensor& t, int64_t r) {
  const int64_t cols = t.shape()[1];
  const Vec v = t.contiguous().to_vector<double>();
  return Vec(v.begin() + r * cols, v.begin() + (r + 1) * cols);
}

// ---- Zoph & Le's tree cell ----

TEST(TreeCell, LectureExampleEqualsItsFormulas) {
  Generator gen(1);
  TreeCell cell(lecture_tree_cell(), 3, 2, gen);
  cell.to(DType::Float64);
  // W1, W3 [2, 3] act on x; W2, W4 [2, 2] on h. The cell keeps leaf i's rows at i*H.
  const Vec w1{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, w3{-0.3, 0.2, 0.7, 0.1, -0.5, 0.4};
  const Vec w2{0.2, 0.1, -0.4, 0.3}, w4{0.6, -0.1, -0.2, -0.5};
  cell.weight_x.copy_(from_vector(cat(w1, w3), {4, 3}, kF64));
  cell.weight_h.copy_(from_vector(cat(w2, w4), {4, 2}, kF64));
  const Vec x{0.5, -1.0, 2.0}, h{0.3, -0.7}, c{0.9, 1.5};
  const TreeCellState out = cell.forward(
      from_vector(x, {1, 3}, kF64), {from_vector(h, {1, 2}, kF64), from_vector(c, {1, 2}, kF64)});
  // By hand: a_0 = tanh(W1 x + W2 h); a_1 = relu((W3 x) * (W4 h)); a_0' = relu(a_0 + c);
  // h_t = sigmoid(a_0' * a_1); c_t = (W3 x) * (W4 h).
  const auto mv = [](const Vec& w, const Vec& v, int r) {
    double s = 0;
    for (size_t k = 0; k < v.size(); ++k) s += w[r * v.size() + k] * v[k];
    return s;
  };
  Vec h_t, c_t;
  for (int r = 0; r < 2; ++r) {
    const double a0 = std::tanh(mv(w1, x, r) + mv(w2, h, r));
    const double pre1 = mv(w3, x, r) * mv(w4, h, r);
    const double a1 = std::max(pre1, 0.0);
    const double a0_new = std::max(a0 + c[r], 0.0);
    h_t.push_back(sigm(a0_new * a1));
    c_t.push_back(pre1);
  }
  expect_close(out.h, h_t);
  expect_close(out.c, c_t);
}

// TensorFlow's NASCell formulas, written out with engine ops: the built-in must equal them.
TreeCellState nas_cell_by_hand(const TreeCell& cell, const Tensor& x, const TreeCellState& s) {
  const int64_t H = cell.hidden_size();
  const Tensor X = linear(x, cell.weight_x), M = linear(s.h, cell.weight_h);
  auto xi = [&](int i) { return X.narrow(1, i * H, H); };
  auto mi = [&](int i) { return M.narrow(1, i * H, H); };
  const Tensor l1_0 = sigmoid(xi(0) + mi(0)), l1_1 = relu(xi(1) + mi(1));
  const Tensor l1_2 = sigmoid(xi(2) + mi(2)), l1_3 = relu(xi(3) * mi(3));
  const Tensor l1_4 = tanh(xi(4) + mi(4)), l1_5 = sigmoid(xi(5) + mi(5));
  const Tensor l1_6 = tanh(xi(6) + mi(6)), l1_7 = sigmoid(xi(7) + mi(7));
  Tensor l2_0 = tanh(l1_0 * l1_1);
  const Tensor l2_1 = tanh(l1_2 + l1_3), l2_2 = tanh(l1_4 * l1_5), l2_3 = sigmoid(l1_6 + l1_7);
  l2_0 = tanh(l2_0 + s.c);
  const Tensor l3_0 = l2_0 * l2_1, l3_1 = tanh(l2_2 + l2_3);
  return {tanh(l3_0 * l3_1), l3_0};
}

TEST(TreeCell, ZophLePtbCellEqualsNasCellOverSeveralSteps) {
  Generator gen(2);
  TreeCell cell(zoph_le_ptb_tree_cell(), 4, 3, gen);
  cell.to(DType::Float64);
  TreeCellState s{testing::random_double({2, 3}, 5, -1, 1, false),
                  testing::random_double({2, 3}, 6, -1, 1, false)};
  TreeCellState ref = s;
  for (int t = 0; t < 4; ++t) {
    const Tensor x = testing::random_double({2, 4}, 10 + t, -2, 2, false);
    s = cell.forward(x, s);
    ref = nas_cell_by_hand(cell, x, ref);
    expect_close(s.h, ref.h);
    expect_close(s.c, ref.c);
  }
}

TEST(TreeCellArch, JsonRoundTripsAndValidates) {
  for (const std::string name : {"lecture", "zoph_le_ptb"}) {
    const TreeCellArch arch = builtin_tree_cell(name);
    EXPECT_EQ(TreeCellArch::from_json(arch.to_json()), arch) << name;
  }
  EXPECT_EQ(lecture_tree_cell().to_json(),
            R"({"base":2,"cell_index":1,"inject":{"activation":"relu","combination":"add",)"
            R"("index":0},"nodes":[["add","tanh"],["elem_mult","relu"],["elem_mult","sigmoid"]]})");
  TreeCellArch bad = lecture_tree_cell();
  bad.base = 3;
  EXPECT_NE(testing::message_of([&] { bad.validate(); }).find("base 3 must be a power of two"),
            std::string::npos);
  bad = lecture_tree_cell();
  bad.nodes.pop_back();
  EXPECT_NE(testing::message_of([&] { bad.validate(); }).find("has 3 tree indices, but 2 nodes"),
            std::string::npos);
  bad = lecture_tree_cell();
  bad.cell_index = 3;
  EXPECT_NE(testing::message_of([&] {
              bad.validate();
            }).find("cell index 3 is outside the tree's indices 0..2"),
            std::string::npos);
  bad = lecture_tree_cell();
  bad.inject_index = -1;
  EXPECT_NE(testing::message_of([&] { bad.validate(); }).find("inject index -1"),
            std::string::npos);
  bad = lecture_tree_cell();
  bad.nodes[1].activation = static_cast<RnnActivation>(7);
  EXPECT_NE(
      testing::message_of([&] { bad.validate(); }).find("tree index 1 has activation value 7"),
      std::string::npos);
  std::string json = lecture_tree_cell().to_json();
  json.replace(json.find("elem_mult"), 9, "max");
  EXPECT_NE(
      testing::message_of([&] { TreeCellArch::from_json(json); }).find("unknown combination 'max'"),
      std::string::npos);
  EXPECT_NE(testing::message_of([&] {
              TreeCellArch::from_json(R"({"base":2})");
            }).find("'nodes' is missing"),
            std::string::npos);
  json = lecture_tree_cell().to_json();
  json.replace(json.find("\"base\""), 6, "\"bse\"");
  EXPECT_NE(testing::message_of([&] { TreeCellArch::from_json(json); }).find("'base' is missing"),
            std::string::npos);
  json = lecture_tree_cell().to_json();
  json.replace(json.find("\"base\":2"), 8, "\"base\":2.5");
  EXPECT_NE(testing::message_of([&] { TreeCellArch::from_json(json); }).find("must be an integer"),
            std::string::npos);
  EXPECT_NE(
      testing::message_of([&] { builtin_tree_cell("lstm"); }).find("known: lecture, zoph_le_ptb"),
      std::string::npos);
  Generator gen(0);
  TreeCell cell(lecture_tree_cell(), 3, 2, gen);
  EXPECT_NE(testing::message_of([&] {
              cell.forward(zeros({1, 4}), cell.zero_state(1));
            }).find("expected input [N, 3], got [1, 4]"),
            std::string::npos);
}

// ---- DARTS ----

// DARTS's cell in plain loops over one sample: s_0, then each node's highway, then the mean.
Vec darts_by_hand(const DartsRecurrentCell& cell, const Vec& x, const Vec& h) {
  const auto& g = cell.genotype();
  const auto& w = cell.weights();
  const int64_t H = cell.nhid();
  std::vector<Vec> states;
  const Vec xh = cat(x, h);
  const Vec c0 = matvec(w[0], xh, 0, H), h0 = matvec(w[0], xh, H, H);
  Vec s0(static_cast<size_t>(H));
  for (int64_t k = 0; k < H; ++k) s0[k] = h[k] + sigm(c0[k]) * (std::tanh(h0[k]) - h[k]);
  states.push_back(s0);
  for (int i = 0; i < g.steps(); ++i) {
    const Vec& sp = states[static_cast<size_t>(g.recurrent[i].input)];
    const Vec c = matvec(w[i + 1], sp, 0, H), hh = matvec(w[i + 1], sp, H, H);
    Vec s(static_cast<size_t>(H));
    for (int64_t k = 0; k < H; ++k)
      s[k] = sp[k] + sigm(c[k]) * (act(g.recurrent[i].op, hh[k]) - sp[k]);
    states.push_back(s);
  }
  Vec out(static_cast<size_t>(H), 0.0);
  for (const int s : g.concat) {
    for (int64_t k = 0; k < H; ++k) out[k] += states[static_cast<size_t>(s)][k] / g.concat.size();
  }
  return out;
}

TEST(DartsRecurrentCell, UnrollEqualsTheFormulasStepByStep) {
  for (const auto& genotype : {darts_v1_recurrent(), darts_v2_recurrent()}) {
    Generator gen(3);
    DartsRecurrentCell cell(genotype, 4, 3, gen);
    cell.to(DType::Float64);
    for (const Tensor& w : cell.weights()) w.mul_(10.0);  // U(-0.4, 0.4): every activation bites
    Tensor h = testing::random_double({2, 3}, 7, -1, 1, false);
    std::vector<Vec> ref{row(h, 0), row(h, 1)};
    for (int t = 0; t < 4; ++t) {
      const Tensor x = testing::random_double({2, 4}, 20 + t, -2, 2, false);
      h = cell.forward(x, h);
      for (int n = 0; n < 2; ++n) ref[n] = darts_by_hand(cell, row(x, n), ref[n]);
      expect_close(h, cat(ref[0], ref[1]));
    }
  }
}

TEST(RecurrentGenotype, TextAndJsonRoundTripAndTheReferenceText) {
  // rnn/genotypes.py of quark0/darts, verbatim.
  const std::string v2 =
      "Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), "
      "('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))";
  EXPECT_EQ(RecurrentGenotype::parse_text(v2), darts_v2_recurrent());
  EXPECT_EQ(darts_v2_recurrent().to_text(), v2);
  const RecurrentGenotype v1 = builtin_recurrent_genotype("DARTS_V1");
  EXPECT_EQ(RecurrentGenotype::parse_text(v1.to_text()), v1);
  EXPECT_EQ(RecurrentGenotype::from_json(v1.to_json()), v1);
  EXPECT_EQ(builtin_recurrent_genotype("DARTS"), darts_v2_recurrent());
  // DARTS's transcription of ENAS's cell: a list concat prints and parses as a list.
  const std::string enas =
      "Genotype(recurrent=[('tanh', 0), ('tanh', 1), ('relu', 1), ('tanh', 3), ('tanh', 3), "
      "('relu', 3), ('relu', 4), ('relu', 7), ('relu', 8), ('relu', 8), ('relu', 8)], "
      "concat=[2, 5, 6, 9, 10, 11])";
  EXPECT_EQ(RecurrentGenotype::parse_text(enas).to_text(), enas);
}

TEST(RecurrentGenotype, RefusesBadGenotypesClearly) {
  auto err = [](const std::string& text) {
    return testing::message_of([&] { RecurrentGenotype::parse_text(text); });
  };
  EXPECT_NE(err("Genotype(recurrent=[('none', 0)], concat=range(1, 2))")
                .find("'none' belongs to "
                      "the search space"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 1)], concat=range(1, 2))")
                .find("node 1 reads state 1, but it can only read states 0..0"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 0)], concat=range(1, 3))")
                .find("the concat names state 2, outside the states 0..1"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 0)], concat=[1, 1])").find("state 1 twice"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tan', 0)], concat=[1])").find("unknown activation 'tan'"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 0)], concat=[1]) x").find("column 47"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[], concat=[])").find("0 nodes; a cell has 1..32"),
            std::string::npos);
  EXPECT_NE(testing::message_of([] {
              RecurrentGenotype::from_json(R"({"recurrent":[["relu",0]]})");
            }).find("'concat' is missing"),
            std::string::npos);
  EXPECT_NE(testing::message_of([] {
              RecurrentGenotype::from_json(R"({"recurrent":[["relu",true]],"concat":[1]})");
            }).find("must be an integer"),
            std::string::npos);
}

// ---- ENAS ----

Vec enas_by_hand(const EnasRecurrentCell& cell, const Vec& x, const Vec& h) {
  const auto& nodes = cell.arch().nodes;
  const auto& w = cell.weights();
  const int64_t H = static_cast<int64_t>(h.size());
  std::vector<Vec> states;
  std::vector<bool> used(nodes.size(), false);
  for (size_t j = 0; j < nodes.size(); ++j) {
    const Vec& sp = j == 0 ? h : states[static_cast<size_t>(nodes[j].input)];
    const Vec in = j == 0 ? cat(x, h) : sp;
    if (j > 0) used[static_cast<size_t>(nodes[j].input)] = true;
    const Vec cand = matvec(w[j], in, 0, H), gate = matvec(w[j], in, H, H);  // ENAS: h~ then t
    Vec s(static_cast<size_t>(H));
    for (int64_t k = 0; k < H; ++k)
      s[k] = sp[k] + sigm(gate[k]) * (act(nodes[j].activation, cand[k]) - sp[k]);
    states.push_back(s);
  }
  Vec out(static_cast<size_t>(H), 0.0);
  int loose = 0;
  for (size_t j = 0; j < nodes.size(); ++j) loose += used[j] ? 0 : 1;
  for (size_t j = 0; j < nodes.size(); ++j) {
    if (used[j]) continue;
    for (int64_t k = 0; k < H; ++k) out[k] += states[j][k] / loose;
  }
  return out;
}

TEST(EnasRecurrentCell, PtbArcHasItsLooseEndsAndUnrollEqualsTheFormulas) {
  const EnasRecurrentArch arch = enas_ptb_recurrent_arch();
  EXPECT_EQ(arch.num_nodes(), 12);
  EXPECT_EQ(arch.loose_ends(), (std::vector<int>{3, 4, 7, 9, 10, 11}));
  EXPECT_EQ(arch.to_enas_string(), "0 0 0 1 1 2 1 2 0 2 0 5 1 1 0 6 1 8 1 8 1 8 1");
  Generator gen(4);
  EnasRecurrentCell cell(arch, 4, 3, gen);
  cell.to(DType::Float64);
  for (const Tensor& w : cell.weights()) w.mul_(4.0);
  Tensor h = testing::random_double({2, 3}, 8, -1, 1, false);
  std::vector<Vec> ref{row(h, 0), row(h, 1)};
  for (int t = 0; t < 4; ++t) {
    const Tensor x = testing::random_double({2, 4}, 30 + t, -2, 2, false);
    h = cell.forward(x, h);
    for (int n = 0; n < 2; ++n) ref[n] = enas_by_hand(cell, row(x, n), ref[n]);
    expect_close(h, cat(ref[0], ref[1]));
  }
}

// DARTS's genotypes.py transcribes ENAS's PTB cell (from the ENAS paper's figure) with other node
// numbers; relabelled, it is the same function as the reference repo's fixed arc.
TEST(EnasRecurrentCell, PtbArcEqualsDartsTranscriptionOfIt) {
  const RecurrentGenotype darts_enas = RecurrentGenotype::parse_text(
      "Genotype(recurrent=[('tanh', 0), ('tanh', 1), ('relu', 1), ('tanh', 3), ('tanh', 3), "
      "('relu', 3), ('relu', 4), ('relu', 7), ('relu', 8), ('relu', 8), ('relu', 8)], "
      "concat=[2, 5, 6, 9, 10, 11])");
  // ENAS node -> DARTS state.
  const std::vector<int> to_darts{0, 1, 3, 6, 5, 4, 7, 2, 8, 9, 10, 11};
  Generator gen(10);
  EnasRecurrentCell enas(enas_ptb_recurrent_arch(), 4, 3, gen);
  DartsRecurrentCell darts(darts_enas, 4, 3, gen);
  enas.to(DType::Float64);
  darts.to(DType::Float64);
  const int64_t H = 3;
  for (size_t j = 0; j < to_darts.size(); ++j) {
    const Tensor& w = enas.weights()[j];  // [candidate; gate] -> DARTS's [gate; candidate]
    w.mul_(4.0);
    darts.weights()[static_cast<size_t>(to_darts[j])].copy_(
        concat({w.narrow(0, H, H), w.narrow(0, 0, H)}, 0));
  }
  const Tensor x = testing::random_double({2, 4}, 70, -1, 1, false);
  const Tensor h = testing::random_double({2, 3}, 71, -1, 1, false);
  expect_close(enas.forward(x, h), darts.forward(x, h));
}

TEST(EnasRecurrentArch, FormsRoundTripAndRefuseBadArcs) {
  const EnasRecurrentArch arch = enas_ptb_recurrent_arch();
  EXPECT_EQ(EnasRecurrentArch::from_json(arch.to_json()), arch);
  EXPECT_EQ(EnasRecurrentArch::from_enas_string(arch.to_enas_string()), arch);
  EXPECT_EQ(
      EnasRecurrentArch::from_json(R"({"nodes":[[-1,"sigmoid"],[0,"identity"]]})").to_enas_string(),
      "3 0 2");
  auto err = [](const std::string& arc) {
    return testing::message_of([&] { EnasRecurrentArch::from_enas_string(arc); });
  };
  EXPECT_NE(err("0 1 0").find("node 1 reads node 1, but it can only read nodes 0..0"),
            std::string::npos);
  EXPECT_NE(err("0 0").find("an odd count of numbers, got 2"), std::string::npos);
  EXPECT_NE(err("4").find("activation number 4"), std::string::npos);
  EXPECT_NE(err("0 -1 0").find("not a small non-negative integer"), std::string::npos);
  EXPECT_NE(testing::message_of([] {
              EnasRecurrentArch::from_json(R"({"nodes":[[0,"tanh"]]})");
            }).find("node 0 reads x_t and h_(t-1), written as input -1, not 0"),
            std::string::npos);
  EXPECT_NE(testing::message_of([] {
              EnasRecurrentArch::from_json(R"({"nodes":[[-1,"elu"]]})");
            }).find("unknown activation 'elu'"),
            std::string::npos);
}

// ---- Parameter counts at the papers' sizes, from the formulas (not from the modules) ----

int64_t count(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

TEST(RecurrentCells, ParameterCountsAtThePapersSizes) {
  Generator gen(0);
  // DARTS PTB (Liu et al. 2019, sec. 4.2 / Table 2): embedding = hidden = 850, 8 nodes, no
  // biases: W_0 is (850 + 850) x 2*850 and each node's W_i 850 x 2*850.
  const int64_t darts_cell = (850 + 850) * 2 * 850 + 8 * 850 * 2 * 850;
  EXPECT_EQ(darts_cell, 14'450'000);
  EXPECT_EQ(count(DartsRecurrentCell(darts_v2_recurrent(), 850, 850, gen)), darts_cell);
  // With the tied 10000 x 850 embedding and the decoder's bias: 22.96M, the paper's "23M".
  EXPECT_EQ(darts_cell + 10'000 * 850 + 10'000, 22'960'000);

  // ENAS PTB (scripts/ptb_final.sh): hidden = embedding = 748, 12 nodes, no biases: w_prev
  // (748 + 748) x 2*748, eleven w_skip 748 x 2*748.
  const int64_t enas_cell = (748 + 748) * 2 * 748 + 11 * 748 * 2 * 748;
  EXPECT_EQ(enas_cell, 14'547'104);
  EXPECT_EQ(count(EnasRecurrentCell(enas_ptb_recurrent_arch(), 748, 748, gen)), enas_cell);
  // With the tied 10000 x 748 embedding (ENAS has no decoder bias): 22.03M; the paper reports 24M.
  EXPECT_EQ(enas_cell + 10'000 * 748, 22'027'104);

  // Zoph & Le's base-8 cell: per leaf W^x_i (H x in) and W^h_i (H x H), no biases (NASCell's
  // default). The paper does not state its hidden size; at in = H = 850, as DARTS:
  const int64_t nas_cell = 8 * 850 * 850 + 8 * 850 * 850;
  EXPECT_EQ(nas_cell, 11'560'000);
  EXPECT_EQ(count(TreeCell(zoph_le_ptb_tree_cell(), 850, 850, gen)), nas_cell);
  // The lecture's base-2 cell: 4 matrices (W1..W4).
  EXPECT_EQ(count(TreeCell(lecture_tree_cell(), 3, 2, gen)), 2 * 2 * 3 + 2 * 2 * 2);
  EXPECT_EQ(count(TreeCell(lecture_tree_cell(), 3, 2, gen, /*bias=*/true)),
            2 * 2 * 3 + 2 * 2 * 2 + 4);
}

// ---- Gradients: two steps carrying the state, against finite differences in double ----

std::vector<Tensor> with_params(std::vector<Tensor> inputs, const nn::Module& m) {
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

TEST(RecurrentCells, GradientsMatchFiniteDifferences) {
  const Tensor x1 = testing::random_double({2, 3}, 41), x2 = testing::random_double({2, 3}, 42);
  const Tensor h0 = testing::random_double({2, 2}, 43), c0 = testing::random_double({2, 2}, 44);
  for (const std::string name : {"lecture", "zoph_le_ptb"}) {
    SCOPED_TRACE(name);
    Generator gen(5);
    TreeCell cell(builtin_tree_cell(name), 3, 2, gen, /*bias=*/true);
    cell.to(DType::Float64);
    testing::expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          const TreeCellState s1 = cell.forward(in[0], {in[2], in[3]});
          const TreeCellState s2 = cell.forward(in[1], s1);
          return concat({s2.h, s2.c}, 1);
        },
        with_params({x1, x2, h0, c0}, cell));
  }
  {
    Generator gen(6);
    DartsRecurrentCell cell(darts_v2_recurrent(), 3, 2, gen);
    cell.to(DType::Float64);
    for (const Tensor& w : cell.weights()) w.mul_(10.0);
    testing::expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          return cell.forward(in[1], cell.forward(in[0], in[2]));
        },
        with_params({x1, x2, h0}, cell));
  }
  {
    Generator gen(7);
    EnasRecurrentCell cell(enas_ptb_recurrent_arch(), 3, 2, gen);
    cell.to(DType::Float64);
    for (const Tensor& w : cell.weights()) w.mul_(4.0);
    testing::expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          return cell.forward(in[1], cell.forward(in[0], in[2]));
        },
        with_params({x1, x2, h0}, cell));
  }
}

// ---- DARTS's search relaxation ----

TEST(DartsRecurrentSearchCell, GradientsReachWeightsAndAlphas) {
  Generator gen(8);
  DartsRecurrentSearchCell cell(3, 2, gen, /*steps=*/3);
  cell.to(DType::Float64);
  for (const Tensor& w : cell.weights()) w.mul_(10.0);
  const Tensor alphas = testing::random_double({6, 5}, 50);
  const Tensor x = testing::random_double({4, 3}, 51), h = testing::random_double({4, 2}, 52);
  {
    NoGradGuard no_grad;  // training mode: batch statistics, and the shared running ones move
    const Tensor out = cell.forward(x, h, alphas);
    EXPECT_EQ(out.shape(), Shape({4, 2}));
    EXPECT_NE(cell.named_buffers()[0].second.to_vector<double>(), std::vector<double>(2, 0.0));
  }
  cell.eval();  // batch norm on fixed statistics: a smooth function of every input
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>& in) { return cell.forward(in[0], in[1], in[2]); },
      with_params({x, h, alphas}, cell));
}

TEST(DartsRecurrentSearchCell, PeakedAlphasRunTheirGenotype) {
  Generator gen(9);
  DartsRecurrentSearchCell search(4, 3, gen);
  search.to(DType::Float64);
  search.eval();  // running statistics 0 and 1: the batch norm only divides by sqrt(1 + 1e-5)
  const RecurrentGenotype target = darts_v2_recurrent();
  std::vector<double> a(static_cast<size_t>(search.num_edges() * 5), 0.0);
  int64_t offset = 0;
  for (int i = 1; i <= 8; ++i) {
    for (int j = 0; j < i; ++j) {
      const RecurrentEdge& e = target.recurrent[static_cast<size_t>(i - 1)];
      // The chosen edge puts its mass on its op, every other edge on none.
      const int k = j == e.input ? 1 + static_cast<int>(e.op) : 0;
      a[static_cast<size_t>((offset + j) * 5 + k)] = 60.0;
    }
    offset += i;
  }
  const Tensor alphas = from_vector(a, {search.num_edges(), 5}, kF64);
  EXPECT_EQ(search.derive_genotype(alphas), target);

  DartsRecurrentCell cell(target, 4, 3, gen);
  cell.to(DType::Float64);
  for (size_t i = 0; i < cell.weights().size(); ++i) cell.weights()[i].copy_(search.weights()[i]);
  const Tensor x = testing::random_double({2, 4}, 60, -1, 1, false);
  const Tensor h = testing::random_double({2, 3}, 61, -1, 1, false);
  expect_close(search.forward(x, h, alphas), cell.forward(x, h), 1e-4);
  EXPECT_NE(testing::message_of([&] {
              search.forward(x, h, zeros({36, 4}, kF64));
            }).find("expected alphas [36, 5]"),
            std::string::npos);
}

// ---- The language model around a cell ----

// A corpus any recurrent model can learn exactly: the 6-token cycle 0 1 2 3 4 5 0 1 ... (so the
// next token is determined by the current one), 4 streams, windows of 8.
Tensor cycle_stream(int64_t n) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(i % 6);
  return from_vector(ids, {n}, TensorOptions{}.with_dtype(DType::Int64));
}

double perplexity(RecurrentLm& lm, const Tensor& batched) {
  NoGradGuard no_grad;
  lm.eval();
  data::BpttIterator it(batched, 8);
  LmState s = lm.zero_state(batched.size(1));
  double nats = 0;
  int64_t tokens = 0;
  while (!it.done()) {
    const data::BpttWindow w = it.next();
    const RecurrentLm::Output out = lm.forward(w.inputs, s, {}, nullptr);
    nats += lm.loss(out, w.targets).item() * static_cast<double>(w.targets.numel());
    tokens += w.targets.numel();
    s = out.state;
  }
  lm.train();
  return std::exp(nats / static_cast<double>(tokens));
}

// Training the DARTS_V2 cell (and the tree and ENAS cells) in the tied-embedding LM with SGD and
// AWD-LSTM's dropouts takes the perplexity of the cycle from about the vocabulary size (6) to
// below 1.5 within 30 epochs of 4 x 100 tokens.
TEST(RecurrentLm, PerplexityOfALearnableCorpusFallsBelowABound) {
  Generator gen(1);
  std::vector<std::pair<std::string, RecurrentCell>> cells = {
      {"darts", std::make_shared<DartsRecurrentCell>(darts_v2_recurrent(), 16, 16, gen)},
      {"enas", std::make_shared<EnasRecurrentCell>(enas_ptb_recurrent_arch(), 16, 16, gen)},
      {"tree", std::make_shared<TreeCell>(lecture_tree_cell(), 16, 16, gen)}};
  const Tensor batched = data::batchify(cycle_stream(400), 4);
  for (auto& [name, cell] : cells) {
    SCOPED_TRACE(name);
    RecurrentLm lm(6, cell, gen);
    const double before = perplexity(lm, batched);
    EXPECT_GT(before, 4.0);
    // SGD with the gradient norm clipped at 0.25 as AWD-LSTM and DARTS do; lr 5, not their 20,
    // which the small base-2 tree cell does not survive.
    const std::vector<Tensor> params = lm.parameters();
    optim::SGD sgd(params, 5.0);
    const LmDropout dropout{.input = 0.1, .x = 0.1, .h = 0.1, .output = 0.1, .embedding = 0.05};
    for (int epoch = 0; epoch < 30; ++epoch) {
      data::BpttIterator it(batched, data::BpttOptions{.bptt = 8, .min_length = 2}, gen);
      LmState s = lm.zero_state(4);
      while (!it.done()) {
        const data::BpttWindow w = it.next();
        sgd.zero_grad();
        const RecurrentLm::Output out = lm.forward(w.inputs, s, dropout, &gen);
        lm.loss(out, w.targets).backward();
        optim::clip_grad_norm(params, 0.25);
        sgd.step();
        s = detach(out.state);  // carried across windows, not backpropagated through
      }
    }
    EXPECT_LT(perplexity(lm, batched), 1.5) << "before: " << before;
  }
}

// The decoder is the embedding's transpose: the loss reaches every embedding row through the
// decoder even for words absent from the window, and the model's gradient matches central
// differences in float64 (the composition of embedding, cell steps, dropout masks and decoder).
TEST(RecurrentLm, TiedWeightsAndGradientsMatchFiniteDifferences) {
  Generator gen(3);
  auto cell = std::make_shared<DartsRecurrentCell>(darts_v2_recurrent(), 3, 3, gen);
  RecurrentLm lm(5, cell, gen);
  lm.to(DType::Float64);
  const auto count = [](const nn::Module& m) {
    int64_t n = 0;
    for (const Tensor& p : m.parameters()) n += p.numel();
    return n;
  };
  EXPECT_EQ(count(lm), 5 * 3 + 5 + count(*cell));  // one table for embedding and decoder
  const Tensor tokens =
      from_vector<int64_t>({0, 1, 1, 2, 2, 0}, {3, 2}, TensorOptions{}.with_dtype(DType::Int64));
  const Tensor targets =
      from_vector<int64_t>({1, 2, 2, 0, 0, 1}, {3, 2}, TensorOptions{}.with_dtype(DType::Int64));
  const LmDropout dropout{
      .input = 0.3, .x = 0.3, .h = 0.3, .output = 0.3, .embedding = 0.2, .weight = 0.4};
  const auto loss = [&](const std::vector<Tensor>&) {
    Generator masks(9);  // the same masks at every evaluation
    return lm.loss(lm.forward(tokens, lm.zero_state(2), dropout, &masks), targets);
  };
  testing::expect_gradients_match(loss, lm.parameters(), 1e-6, 1e-6);
  lm.zero_grad();
  loss({}).backward();
  const std::vector<double> g = lm.embedding.grad().to_vector<double>();
  double row4 = 0;  // token 4 never appears in the window: only the decoder reaches its row
  for (int k = 0; k < 3; ++k) row4 += std::abs(g[4 * 3 + k]);
  EXPECT_GT(row4, 1e-6);
}

// DropConnect masks only the weights' recurrent columns: from a zero state the first step reads
// h(t-1) = 0, so weight_h's mask cannot change it while weight_x is left whole; the second step
// reads h(t-1) != 0 through the masked weight_h and changes.
TEST(RecurrentLm, DropConnectMasksOnlyTheRecurrentWeights) {
  Generator gen(7);
  RecurrentLm lm(6, std::make_shared<TreeCell>(lecture_tree_cell(), 4, 4, gen), gen);
  const Tensor tokens =
      from_vector<int64_t>({0, 1, 2, 3}, {2, 2}, TensorOptions{}.with_dtype(DType::Int64));
  const auto raw = [&](double wdrop) {
    Generator g(11);
    return lm.forward(tokens, lm.zero_state(2), {.weight = wdrop}, &g).raw;
  };
  const Tensor plain = raw(0), dropped = raw(0.5);
  EXPECT_EQ(plain.narrow(0, 0, 1).to_vector<double>(), dropped.narrow(0, 0, 1).to_vector<double>());
  EXPECT_NE(plain.narrow(0, 1, 1).to_vector<double>(), dropped.narrow(0, 1, 1).to_vector<double>());
  // The masks last one window: the next forward without DropConnect is the plain one again.
  EXPECT_EQ(raw(0).to_vector<double>(), plain.to_vector<double>());
}

TEST(RecurrentLm, DropoutIsSeededAndOffInEvalMode) {
  Generator gen(5);
  RecurrentLm lm(6, std::make_shared<TreeCell>(lecture_tree_cell(), 4, 4, gen), gen);
  const Tensor tokens = from_vector<int64_t>({0, 1, 2, 3, 4, 5, 0, 1}, {4, 2},
                                             TensorOptions{}.with_dtype(DType::Int64));
  const LmDropout dropout{
      .input = 0.5, .x = 0.5, .h = 0.5, .output = 0.5, .embedding = 0.5, .weight = 0.5};
  const auto logits = [&](uint64_t seed) {
    Generator g(seed);
    return lm.forward(tokens, lm.zero_state(2), dropout, &g).logits.to_vector<double>();
  };
  EXPECT_EQ(logits(1), logits(1));
  EXPECT_NE(logits(1), logits(2));
  lm.eval();
  const std::vector<double> plain =
      lm.forward(tokens, lm.zero_state(2), {}, nullptr).logits.to_vector<double>();
  EXPECT_EQ(logits(1), plain);  // eval mode: no masks, whatever the rates
  EXPECT_NE(testing::message_of([&] {
              lm.train();
              lm.forward(tokens, lm.zero_state(2), dropout, nullptr);
            }).find("needs a generator"),
            std::string::npos);
  EXPECT_NE(testing::message_of([&] {
              lm.forward(tokens, lm.zero_state(3), {}, nullptr);
            }).find("batch of 3"),
            std::string::npos);
  EXPECT_NE(testing::message_of([&] {
              RecurrentLm(6, std::make_shared<TreeCell>(lecture_tree_cell(), 4, 5, gen), gen);
            }).find("must equal its hidden size"),
            std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas::rnn
