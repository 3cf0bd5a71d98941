// The search plots: incumbent curves by hand, failed and pruned trials left out, and SVG that is
// well formed with one series per strategy (step and scatter series of svg_chart included).
#include "fusenas/nas/report/search_plots.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "fusenas/nas/report/svg_chart.h"

namespace fusenas::nas::report {
namespace {

using O = TrialOutcome;

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Well formed in the XML sense that matters for inline SVG: tags balance and nest, attribute values
// are quoted, and text holds no raw '<' or stray '&'. Returns what is wrong, or "".
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      if (semi == std::string::npos || semi - i > 8) return "stray & at " + std::to_string(i);
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      if (s[i] == '>') return "stray > at " + std::to_string(i);
      ++i;
      continue;
    }
    size_t j = i + 1;
    char quote = 0;
    for (; j < s.size() && (quote || s[j] != '>'); ++j) {
      if (quote && s[j] == '<') return "< inside an attribute at " + std::to_string(j);
      if (quote == 0 && (s[j] == '\'' || s[j] == '"')) {
        quote = s[j];
      } else if (s[j] == quote) {
        quote = 0;
      }
    }
    if (j == s.size()) return "unterminated tag at " + std::to_string(i);
    std::string tag = s.substr(i + 1, j - i - 1);
    i = j + 1;
    const bool closing = tag.front() == '/', self_closing = tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" /"));
    if (name.empty()) return "a tag without a name";
    if (closing) {
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

std::vector<TrialPoint> hand_example() {
  // id, elapsed seconds, score, params, outcome
  return {{1, 60, 50, 20000, O::kDone},       {2, 90, 99, 30000, O::kFailed},
          {3, 150, 40, 120000, O::kDone},     {4, 200, 70, 80000, O::kDone},
          {5, 210, 80, 50000, O::kPruned},    {6, 300, 65, 1500000, O::kDone},
          {7, 330, {}, 40000, O::kUnfinished}};
}

TEST(SearchPlots, TheIncumbentEqualsTheHandWorkedExample) {
  // Trial 2 failed (its score of 99 is a diverged run's), trial 5 was pruned at a lower fidelity,
  // trial 7 has not ended: none of them can be the incumbent.
  const Curve by_trial = incumbent_by_trial(hand_example());
  EXPECT_EQ(by_trial.x, (std::vector<double>{1, 3, 4, 6}));
  EXPECT_EQ(by_trial.y, (std::vector<double>{50, 50, 70, 70}));
  const Curve by_time = incumbent_by_minutes(hand_example());
  EXPECT_EQ(by_time.x, (std::vector<double>{1, 2.5, 200.0 / 60, 5}));
  EXPECT_EQ(by_time.y, (std::vector<double>{50, 50, 70, 70}));
  // Trials run at once end out of id order: the time curve follows the ends.
  const std::vector<TrialPoint> parallel = {{1, 300, 90, 1, O::kDone}, {2, 100, 60, 1, O::kDone}};
  EXPECT_EQ(incumbent_by_minutes(parallel).x, (std::vector<double>{100.0 / 60, 5}));
  EXPECT_EQ(incumbent_by_minutes(parallel).y, (std::vector<double>{60, 90}));
  EXPECT_EQ(incumbent_by_trial(parallel).y, (std::vector<double>{90, 90}));
  EXPECT_TRUE(incumbent_by_trial({}).x.empty());
}

TEST(SearchPlots, TheIncumbentIsTheRunningMaximumOfDoneTrials) {
  std::mt19937 rng(5);
  std::vector<TrialPoint> trials;
  for (int i = 1; i <= 200; ++i) {
    const O outcome = i % 7 == 0 ? O::kFailed : O::kDone;
    trials.push_back(
        {i, 10.0 * i, std::uniform_real_distribution<double>(0, 100)(rng), 1000, outcome});
  }
  const Curve c = incumbent_by_trial(trials);
  ASSERT_EQ(c.x.size(), 200u - 200 / 7);
  EXPECT_TRUE(std::is_sorted(c.y.begin(), c.y.end()));
  double best = -1;
  size_t k = 0;
  for (const auto& t : trials) {
    if (t.outcome != O::kDone) continue;
    best = std::max(best, *t.score);
    EXPECT_EQ(c.x[k], t.id);
    EXPECT_EQ(c.y[k++], best);
  }
}

TEST(SearchPlots, SvgsAreWellFormedWithOneSeriesPerStrategy) {
  std::vector<SearchTrials> searches = {
      {"random", hand_example()}, {"evolution", hand_example()}, {"bo <GP & EI>", hand_example()}};
  searches[1].trials[0].score = 55;
  const std::string curves = svg_incumbent_plot(searches, "accuracy (%)");
  EXPECT_EQ(xml_problem(curves), "") << curves;
  EXPECT_EQ(occurrences(curves, "class='series'"), 6u);  // two panels
  for (const char* name : {"random", "evolution", "bo &lt;GP &amp; EI&gt;"}) {
    EXPECT_EQ(occurrences(curves, std::string("data-name='") + name + "'"), 2u) << name;
    EXPECT_EQ(occurrences(curves, std::string(">") + name + "</text>"), 1u) << name;  // legend
  }
  EXPECT_NE(curves.find(">wall-clock time (min)</text>"), std::string::npos);

  const std::string scatter = svg_score_vs_params(searches, "accuracy (%)");
  EXPECT_EQ(xml_problem(scatter), "") << scatter;
  EXPECT_EQ(occurrences(scatter, "class='series'"), 3u);
  EXPECT_EQ(occurrences(scatter, "<polyline"), 0u);
  EXPECT_EQ(occurrences(scatter, "<circle"), 3u * 4 + 3);  // the done trials, and legend markers
  // 20k..1.5M parameters span decades: a log axis with powers of ten.
  for (const char* tick : {">100k</text>", ">1M</text>"})
    EXPECT_NE(scatter.find(tick), std::string::npos) << tick;
  EXPECT_EQ(xml_problem(svg_incumbent_plot({}, "accuracy (%)")), "");
  EXPECT_EQ(xml_problem(svg_score_vs_params({{"empty", {}}}, "accuracy (%)")), "");
}

TEST(SvgChart, StepsHoldTheirValueAndLogAxesMapDecadesEvenly) {
  LineChart c("t", "trial", "best");
  c.width = 600;
  c.series.push_back({"s", {1, 3}, {0, 1}, false, SeriesStyle::kStep});
  const PlotArea a = line_chart_area(c);
  const std::string svg = svg_line_chart(c);
  // (1, 0), then (3, 0) before the jump to (3, 1).
  const std::string step = fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} ", a.x(1), a.y(0),
                                       a.x(3), a.y(0), a.x(3), a.y(1));
  EXPECT_NE(svg.find("points='" + step + "'"), std::string::npos) << svg;

  const Scale log{1e3, 1e6, 0, 300, true};
  EXPECT_DOUBLE_EQ(log(1e4), 100);
  EXPECT_DOUBLE_EQ(log(1e5), 200);
  LineChart narrow("n", "params", "acc");
  narrow.log_x = true;
  narrow.series.push_back({"s", {-5, 0, 1200, 1800}, {1, 2, 3, 4}, false, SeriesStyle::kPoints});
  const std::string n = svg_line_chart(narrow);
  EXPECT_EQ(occurrences(n, "<circle"), 2u + 1);  // x <= 0 left out; one legend marker
  EXPECT_EQ(line_chart_area(narrow).x.lo, 1200);
  EXPECT_NE(n.find(">1.4k</text>"), std::string::npos) << n;  // ticks inside a narrow range
}

}  // namespace
}  // namespace fusenas::nas::report
