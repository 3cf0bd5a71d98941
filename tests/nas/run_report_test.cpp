// nas_report's page model and charts: fixture run folders of each kind (written here, field
// names from docs/formats.md) give the right sections and numbers, ENAS controller steps with and
// without their baseline and entropy, the log's invocation lines in the overview; corrupt folders
// give a page that names the problem; chart scales put hand-checked points where they belong.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fusenas/nas/report/run_report.h"
#include "fusenas/nas/report/svg_chart.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::report {
namespace {

using nlohmann::json;
using testing::TempDir;

void write(const std::string& dir, const std::string& name, const std::string& text) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary) << text;
}

std::string lines(const std::vector<json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

const char* kGenotype =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

void write_darts(const std::string& dir) {
  write(dir, "config.json", json{{"epochs", 3}, {"order", 1}, {"preset", "quick"}}.dump());
  std::vector<json> metrics, alphas;
  const std::vector<std::string> ops = {"none", "max_pool_3x3", "skip_connect"};
  for (int e = 1; e <= 2; ++e) {
    metrics.push_back({{"epoch", e},
                       {"train_loss", 2.0 - 0.5 * e},
                       {"train_acc", 40.0 + e},
                       {"arch_val_loss", 2.1},
                       {"val_loss", 1.9},
                       {"val_acc", 61.25 + e},
                       {"lr", 0.025 / e},
                       {"seconds", 1.5},
                       {"genotype", kGenotype}});
    json normal = json::array(), reduce = json::array();
    for (int edge = 0; edge < 14; ++edge) {
      normal.push_back({0.2, 0.3, 0.5});
      reduce.push_back({0.6, 0.3, 0.1});
    }
    alphas.push_back({{"epoch", e}, {"ops", ops}, {"normal", normal}, {"reduce", reduce}});
  }
  write(dir, "metrics.jsonl", lines(metrics));
  write(dir, "alphas.jsonl", lines(alphas));
  write(dir, "genotype.txt", kGenotype);
  write(dir, "genotype.json",
        json{{"normal", {{"sep_conv_3x3", 0}, {"sep_conv_3x3", 1}}},
             {"normal_concat", {2}},
             {"reduce", {{"max_pool_3x3", 0}, {"max_pool_3x3", 1}}},
             {"reduce_concat", {2}}}
            .dump());
  write(
      dir, "normal.svg",
      "<?xml version='1.0'?>\n<svg width='10pt'><g id='graph0'><text>normal cell</text></g></svg>");
  write(dir, "reduce.dot", "digraph reduce_cell { c_k_2 -> n0 [label=\"max_pool_3x3\"]; }");
  write(dir, "search.log", "2026-01-01 10:00:00 nas_darts: order 1 on fashion-mnist, device cpu\n");
  write(dir, "checkpoint.json", json{{"format", "fusenas-darts"}, {"epoch", 2}}.dump());
}

TEST(RunReport, DartsFolderHasItsSectionsAndNumbers) {
  TempDir tmp;
  const std::string dir = tmp.sub("darts");
  write_darts(dir);
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.kind, RunKind::kDarts);
  EXPECT_EQ(r.state, RunState::kStopped);  // a checkpoint, no result, nobody holds the lock
  for (const char* id : {"overview", "result", "curves", "architecture", "alphas", "config"})
    EXPECT_NE(r.find(id), nullptr) << id;
  EXPECT_EQ(r.find("controller"), nullptr);
  EXPECT_EQ(r.find("trials"), nullptr);  // a search's sections only for a search
  const std::string html = render_html(r);
  EXPECT_NE(html.find("<section id='alphas'>"), std::string::npos);
  EXPECT_NE(render_html(build_run_report(dir + "/")).find("<h1>darts</h1>"), std::string::npos);
  EXPECT_NE(html.find("2 of 3"), std::string::npos);  // epochs finished of the config's
  EXPECT_NE(html.find("search-val"), std::string::npos);
  EXPECT_NE(html.find("(&#39;dil_conv_3x3&#39;, 2)"), std::string::npos);
  EXPECT_NE(html.find("edge 13: node 2 \u2192 node 3"), std::string::npos);
  EXPECT_NE(html.find("<g id='graph0'>"), std::string::npos);  // normal.svg inlined
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  EXPECT_NE(html.find("digraph reduce_cell"), std::string::npos);  // no reduce.svg: the DOT text
  EXPECT_NE(html.find("nas_darts: order 1"), std::string::npos);   // the log's header
  EXPECT_EQ(html.find("http-equiv='refresh'"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
  EXPECT_NE(render_html(r, {5, ""}).find("<meta http-equiv='refresh' content='5'>"),
            std::string::npos);
}

TEST(RunReport, EnasFoldersShowControllerAndDistributions) {
  TempDir tmp;
  const std::string micro = tmp.sub("micro");
  write(micro, "config.json", json{{"epochs", 2}, {"controller_steps", 1}}.dump());
  write(micro, "metrics.jsonl",
        lines({{{"epoch", 1},
                {"shared_loss", 2.2},
                {"shared_acc", 20.0},
                {"lr", 0.05},
                {"mean_reward", 0.25},
                {"baseline", 0.125},
                {"entropy", 7.5},
                {"best_reward", 0.5}},
               {{"epoch", 2},
                {"shared_loss", 2.0},
                {"shared_acc", 30.0},
                {"lr", 0.02},
                {"mean_reward", 0.375},
                {"baseline", 0.2},
                {"entropy", 7.25},
                {"best_reward", 0.5}}}));
  json cell = {{0, "sep_conv_3x3", 1, "identity"}, {2, "sep_conv_3x3", 0, "sep_conv_3x3"}};
  // Each row carries its step's baseline and entropy (runs since they were recorded).
  auto sample = [&](int epoch, int n, double reward, double baseline, double entropy) {
    return json{{"epoch", epoch},
                {"step", 1},
                {"sample", n},
                {"reward", reward},
                {"step_baseline", baseline},
                {"step_entropy", entropy},
                {"arch", {{"normal", cell}, {"reduce", cell}}}};
  };
  write(micro, "sampled_archs.jsonl",
        lines({sample(1, 1, 0.25, 0.3, 7.0), sample(1, 2, 0.75, 0.3, 7.0),
               sample(2, 1, 0.5, 0.35, 6.5)}));
  write(micro, "result.json",
        json{{"space", "micro"}, {"derive_acc", 43.75}, {"val_acc", 41.5}, {"epochs", 2}}.dump());
  const RunReport r = build_run_report(micro);
  EXPECT_EQ(r.kind, RunKind::kEnas);
  EXPECT_EQ(r.state, RunState::kFinished);
  for (const char* id : {"controller", "sampled", "architecture", "curves", "result"})
    EXPECT_NE(r.find(id), nullptr) << id;
  const std::string html = render_html(r);
  EXPECT_NE(html.find("derivation accuracy 43.75%"), std::string::npos);
  EXPECT_NE(html.find("baseline (after the epoch)"), std::string::npos);
  EXPECT_NE(html.find("entropy (nats)"), std::string::npos);
  // 3 of 4 op choices per sample are sep_conv_3x3: 75.0% in both cells.
  EXPECT_NE(html.find(">75.0</text>"), std::string::npos);
  EXPECT_NE(html.find("Over all 3 children"), std::string::npos);
  // Per controller step, numbered across epochs: the mean reward of the step's samples (0.5 for
  // both), its baseline and its entropy on the right axis.
  EXPECT_NE(html.find("<title>Controller per step</title>"), std::string::npos);
  EXPECT_NE(html.find("controller step (all epochs)"), std::string::npos);
  EXPECT_NE(html.find("mean reward of the step&#39;s samples 1: 0.5"), std::string::npos);
  EXPECT_NE(html.find("mean reward of the step&#39;s samples 2: 0.5"), std::string::npos);
  EXPECT_NE(html.find("baseline (after the step) 1: 0.3<"), std::string::npos);
  EXPECT_NE(html.find("baseline (after the step) 2: 0.35<"), std::string::npos);
  EXPECT_NE(html.find("entropy (right axis) 2: 6.5<"), std::string::npos);

  const std::string macro = tmp.sub("macro");
  write(macro, "metrics.jsonl",
        lines({{{"epoch", 1}, {"skip_rate", 0.5}, {"mean_reward", 0.1}, {"lr", 0.05}}}));
  json layers = {{"layers",
                  {{{"op", "conv_3x3"}, {"skips", json::array()}},
                   {{"op", "max_pool_3x3"}, {"skips", {1}}},
                   {{"op", "conv_3x3"}, {"skips", {0, 1}}}}}};
  write(macro, "sampled_archs.jsonl",
        lines({{{"epoch", 1}, {"step", 1}, {"sample", 1}, {"reward", 0.1}, {"arch", layers}}}));
  write(macro, "arch.json", layers.dump());
  const std::string mhtml = render_html(build_run_report(macro));
  EXPECT_NE(mhtml.find("Skip rate over all samples: 66.7%"), std::string::npos);
  EXPECT_NE(mhtml.find("Layer chain"), std::string::npos);
  // A folder from before the per-step fields: rewards per step only, beside the epochs' view.
  EXPECT_NE(mhtml.find("<title>Reward per controller step</title>"), std::string::npos);
  EXPECT_NE(mhtml.find("mean reward of the step&#39;s samples 1: 0.1"), std::string::npos);
  EXPECT_EQ(mhtml.find("after the step"), std::string::npos);
  EXPECT_NE(mhtml.find("<title>Controller per epoch</title>"), std::string::npos);
}

TEST(RunReport, LongEnasSearchAveragesItsStepsIntoALightChart) {
  TempDir tmp;
  const std::string dir = tmp.sub("long");
  // 2500 steps of one sample over 5 epochs: 3 steps a point, 834 points, no markers.
  std::string rows;
  for (int i = 0; i < 2500; ++i) {
    rows += json{{"epoch", 1 + i / 500},     {"step", 1 + i % 500},   {"sample", 1},
                 {"reward", (i % 3) * 0.25}, {"step_baseline", 0.25}, {"step_entropy", 5.0}}
                .dump() +
            "\n";
  }
  write(dir, "sampled_archs.jsonl", rows);
  const std::string html = render_html(build_run_report(dir));
  EXPECT_NE(html.find("<title>Controller per step, means of 3 steps</title>"), std::string::npos);
  const std::string name = "data-name='baseline (after the step)' points='";
  const size_t at = html.find(name);
  ASSERT_NE(at, std::string::npos);
  const std::string points =
      html.substr(at + name.size(), html.find('\'', at + name.size()) - at - name.size());
  EXPECT_EQ(std::count(points.begin(), points.end(), ' '), 834);
  EXPECT_EQ(html.find("<title>mean reward"), std::string::npos);  // too many for markers
}

TEST(RunReport, OverviewShowsWhereTheRunComesFrom) {
  TempDir tmp;
  // A log from before the machine was recorded: version and command, the machine unknown.
  const std::string dir = tmp.sub("train");
  write(dir, "train.log",
        "2026-01-01 10:00:00 nas_train 0.1.0 (git 0a42); command: nas_train --epochs 2\n"
        "2026-01-01 10:00:01 nas_train: DARTS_V2 C=8 layers=5\n");
  std::string html = render_html(build_run_report(dir));
  EXPECT_NE(html.find("<tr><th>version</th><td>nas_train 0.1.0 (git 0a42)</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<tr><th>command</th><td><code>nas_train --epochs 2</code></td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<th>machine</th><td>not recorded"), std::string::npos);
  EXPECT_EQ(html.find("<th>resumed</th>"), std::string::npos);
  EXPECT_NE(html.find("<pre class='wrap'>2026-01-01 10:00:01 nas_train: DARTS_V2"),
            std::string::npos);

  // Today's line names the host and CPU; resumes are listed, the last 5 of them.
  std::string log =
      "2026-01-01 10:00:00 nas_train 0.2.0 (git 1b); host: gpu-7; cpu: AMD EPYC "
      "9654 96-Core Processor; command: nas_train --epochs 2\n";
  for (int i = 1; i <= 7; ++i) {
    log += fmt::format(
        "2026-01-0{} 10:00:00 nas_train 0.2.0 (git 1b); host: gpu-{}; command: nas_train "
        "--resume r\n",
        1 + i, i);
  }
  write(dir, "train.log", log);
  html = render_html(build_run_report(dir));
  EXPECT_NE(html.find("<tr><th>machine</th><td>host gpu-7, CPU AMD EPYC 9654 96-Core "
                      "Processor</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<th>resumed</th><td>7 times:<br>(2 earlier ones left out)<br>"
                      "2026-01-04 10:00:00: <code>nas_train --resume r</code> on host gpu-3<br>"),
            std::string::npos);
  EXPECT_NE(html.find("on host gpu-7</td></tr>"), std::string::npos);

  // A log without invocation lines (runs before they were written) says so.
  write(dir, "train.log", "2026-01-01 10:00:01 nas_train: DARTS_V2 C=8 layers=5\n");
  html = render_html(build_run_report(dir));
  EXPECT_NE(html.find("<tr><th>command</th><td>not in the log"), std::string::npos);
  EXPECT_EQ(html.find("<th>machine</th>"), std::string::npos);
}

TEST(RunReport, TrainFolderShowsTestAccuracyAndParams) {
  TempDir tmp;
  const std::string dir = tmp.sub("train");
  write(dir, "config.json", json{{"epochs", 2}, {"init_channels", 8}}.dump());
  write(dir, "metrics.jsonl",
        lines({{{"epoch", 1},
                {"train_loss", 2.1},
                {"train_acc", 30.0},
                {"test_loss", 2.2},
                {"test_acc", 35.0},
                {"lr", 0.05}},
               {{"epoch", 2},
                {"train_loss", 1.7},
                {"train_acc", 45.0},
                {"test_loss", 1.9},
                {"test_acc", 47.5},
                {"lr", 0.025}}}));
  write(dir, "result.json",
        json{{"test_acc", 47.5}, {"test_loss", 1.9}, {"epochs", 2}, {"params", 41130}}.dump());
  write(dir, "train.log", "2026-01-01 10:00:00 nas_train: DARTS_V2 C=8 layers=5\n");
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.kind, RunKind::kTrain);
  EXPECT_EQ(r.state, RunState::kFinished);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  const std::string html = render_html(r);
  EXPECT_NE(html.find("test accuracy 47.50%"), std::string::npos);
  EXPECT_NE(html.find("parameters 41130 (0.041 M)"), std::string::npos);
  EXPECT_NE(html.find("data-name='test'"), std::string::npos);
  EXPECT_EQ(r.find("alphas"), nullptr);
}

TEST(RunReport, CorruptFolderStillGivesAPageNamingTheProblems) {
  TempDir tmp;
  const std::string dir = tmp.sub("corrupt");
  write(dir, "config.json", "{\"epochs\": 3, garbage");
  write(dir, "metrics.jsonl",
        json{{"epoch", 1}, {"train_loss", 2.0}, {"val_acc", 12.5}, {"lr", 0.1}}.dump() +
            "\n{\"epoch\": 2, \"train_lo");
  write(dir, "alphas.jsonl", "{\"epoch\": 1, \"ops\": 5, \"normal\": \"x\"}\n");
  write(dir, "genotype.json", "[1, 2]");
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.kind, RunKind::kDarts);
  EXPECT_EQ(r.state, RunState::kUnknown);
  const std::string html = render_html(r);
  EXPECT_NE(html.find("<section id='problems'>"), std::string::npos);
  EXPECT_NE(html.find("config.json is not a JSON object"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl: the last line (2) is incomplete"), std::string::npos);
  EXPECT_NE(html.find("search.log is missing"), std::string::npos);
  EXPECT_NE(html.find("unknown/incomplete"), std::string::npos);
  EXPECT_NE(html.find("No alphas yet"), std::string::npos);

  // Not a folder, and an empty one.
  EXPECT_FALSE(build_run_report(tmp.sub("absent")).problems.empty());
  std::filesystem::create_directories(tmp.sub("empty"));
  const RunReport empty = build_run_report(tmp.sub("empty"));
  EXPECT_EQ(empty.kind, RunKind::kUnknown);
  EXPECT_NE(render_html(empty).find("config.json is missing"), std::string::npos);
}

TEST(RunReport, HeldLockMeansRunning) {
  TempDir tmp;
  const std::string dir = tmp.sub("live");
  write(dir, "run.lock", "4242\n");
  EXPECT_FALSE(run_is_live(dir));
  // An flock is per open file description, so this process's own lock conflicts as another's.
  const int fd = ::open((dir + "/run.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_TRUE(run_is_live(dir));
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.state, RunState::kRunning);
  EXPECT_EQ(r.state_detail, "held by pid 4242");
  ::close(fd);
  EXPECT_FALSE(run_is_live(dir));
}

TEST(SvgChart, ScalesPutPointsAtTheEdges) {
  LineChart c("t", "epoch", "loss", "lr");
  c.width = 600;
  c.height = 300;
  c.series.push_back({"a", {1, 2, 10}, {0.5, 1.0, 2.0}});
  c.series.push_back({"lr", {1, 10}, {0.1, 0.025}, true});
  const PlotArea a = line_chart_area(c);
  // x spans exactly the data: the first epoch on the left edge, the last on the right one
  // (left margin 60, right margin 64 for the second axis).
  EXPECT_DOUBLE_EQ(a.x(1), 60);
  EXPECT_DOUBLE_EQ(a.x(10), 600 - 64);
  EXPECT_DOUBLE_EQ(a.x(5.5), (60 + 536) / 2.0);
  // y ends on round ticks: 0.5..2 becomes 0.5..2 (step 0.5), drawn upwards.
  EXPECT_DOUBLE_EQ(a.y.lo, 0.5);
  EXPECT_DOUBLE_EQ(a.y.hi, 2.0);
  EXPECT_DOUBLE_EQ(a.y(2.0), 30);   // top margin
  EXPECT_GT(a.y(0.5), a.y(1.0));    // larger values higher up
  EXPECT_DOUBLE_EQ(a.y2.lo, 0.02);  // 0.025..0.1, step 0.02
  EXPECT_NEAR(a.y2.hi, 0.1, 1e-12);
  const std::string svg = svg_line_chart(c);
  EXPECT_NE(svg.find("536.0,30.0"), std::string::npos);  // (10, 2.0): top right corner
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
  EXPECT_NE(svg.find(">lr</text>"), std::string::npos);  // legend entry
  EXPECT_NE(svg.find("stroke-dasharray='6 3'"), std::string::npos);
}

TEST(SvgChart, TicksAreRoundAndEscapingIsSafe) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(nice_ticks(1, 2, 5, 1), (std::vector<double>{1, 2}));
  EXPECT_EQ(nice_ticks(3, 3), (std::vector<double>{3}));
  EXPECT_EQ(escape_xml("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  // Flat and empty series still draw.
  LineChart flat("flat", "x", "y");
  flat.series.push_back({"s", {1}, {4}});
  EXPECT_NE(svg_line_chart(flat).find("<circle"), std::string::npos);
  EXPECT_NE(svg_line_chart(LineChart("empty", "x", "y")).find("</svg>"), std::string::npos);
  // Close ticks keep the decimals that tell them apart.
  LineChart narrow("narrow", "x", "y");
  narrow.series.push_back({"s", {1, 2}, {11.32580, 11.32590}});
  const std::string narrow_svg = svg_line_chart(narrow);
  EXPECT_NE(narrow_svg.find(">11.32580</text>"), std::string::npos) << narrow_svg;
  EXPECT_NE(narrow_svg.find(">11.32590</text>"), std::string::npos);
  // Axis labels are the ticks the axis ends on: 0.04..0.16 by 0.02, not a coarser re-ticking of
  // those ends (0, 0.05, ..., 0.2) that put labels below and above the plot.
  LineChart fine("fine", "step", "reward");
  fine.series.push_back({"s", {1, 2}, {0.0571428, 0.1402977}});
  const std::string fine_svg = svg_line_chart(fine);
  for (const char* tick : {">0.04</text>", ">0.1</text>", ">0.16</text>"})
    EXPECT_NE(fine_svg.find(tick), std::string::npos) << tick << fine_svg;
  EXPECT_EQ(fine_svg.find(">0</text>"), std::string::npos);
  EXPECT_EQ(fine_svg.find(">0.2</text>"), std::string::npos);
  BarChart bars("ops", "share (%)");
  bars.labels = {"a", "b"};
  bars.values = {25, 75};
  EXPECT_NE(svg_bar_chart(bars).find(">75.0</text>"), std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas::report
