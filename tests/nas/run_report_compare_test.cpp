// nas_report --compare on fake search folders written through TrialDb: the series' names and
// points, the table's values worked out by hand, escaping, broken folders among good ones (a
// problem line each, the rest still drawn), other kinds of run refused, databases left unchanged.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fusenas/nas/report/compare_report.h"
#include "fusenas/nas/report/svg_chart.h"
#include "support/run_fixtures.h"
#include "support/search_folders.h"

namespace fusenas::nas::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::fake_done;
using testing::fake_failed;
using testing::fake_pending;
using testing::FakeSearch;
using testing::TempDir;
using testing::write_fake_search;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has(const std::string& html, const std::string& text) {
  return html.find(text) != std::string::npos;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Random search over chains: best 70% at trial 3 (3000 parameters) after 60 + 30 + 90 s = 3.0
// min; 240 s = 4.0 min in all; 3 done, 1 failed.
FakeSearch alpha() {
  FakeSearch s;
  s.trials = {fake_done(50, 1000, 60, "c1"), fake_failed(30),
              fake_done(70, 3000, 90, "conv <x> & 'y'"), fake_done(65, 2000, 60, "c4")};
  return s;
}

// Evolution over chains: best 75.5% at trial 2 after 4.0 min; one trial still pending.
FakeSearch beta() {
  FakeSearch s;
  s.strategy = "evolution";
  s.seed = 2;
  s.trials = {fake_done(55, 1500, 120, "b1"), fake_done(75.5, 4000, 120, "b2"), fake_pending()};
  return s;
}

// Random search over DARTS cells at a lower fidelity: 40% at trial 1 after 0.5 min, 0.8 in all.
FakeSearch gamma() {
  FakeSearch s;
  s.space = "darts-cell";
  s.seed = 3;
  s.epochs = 1;
  s.trials = {fake_done(40, 500000, 30, "cell"), fake_failed(18)};
  return s;
}

// The three searches, written once and copied: each trial state change is a synced commit.
std::vector<std::string> three_searches(const TempDir& tmp) {
  static const TempDir made;
  static const bool written = [] {
    write_fake_search(made.sub("alpha"), alpha());
    write_fake_search(made.sub("beta"), beta());
    write_fake_search(made.sub("gamma"), gamma());
    return true;
  }();
  (void)written;
  std::vector<std::string> dirs;
  for (const char* name : {"alpha", "beta", "gamma"}) {
    fs::copy(made.sub(name), tmp.sub(name), fs::copy_options::recursive);
    dirs.push_back(tmp.sub(name));
  }
  return dirs;
}

TEST(RunReportCompare, ThreeSearchesGiveSeriesAndTableWorkedOutByHand) {
  TempDir tmp;
  const std::vector<std::string> dirs = three_searches(tmp);
  const std::string db_bytes = read(dirs[0] + "/trials.sqlite");
  const CompareReport r = build_compare_report(dirs);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_TRUE(r.refused.empty());
  ASSERT_EQ(r.searches.size(), 3u);

  // Two random searches on different spaces are told apart by their space.
  const ComparedSearch &a = r.searches[0], &b = r.searches[1], &c = r.searches[2];
  EXPECT_EQ(a.name, "random (chain)");
  EXPECT_EQ(b.name, "evolution");
  EXPECT_EQ(c.name, "random (darts-cell)");

  EXPECT_EQ(a.dir, dirs[0]);
  EXPECT_EQ(a.strategy, "random");
  EXPECT_EQ(a.space, "chain");
  EXPECT_EQ(a.hpo, "off");
  EXPECT_EQ(a.seed, 1u);
  EXPECT_EQ(a.trials, 4);
  EXPECT_EQ(a.done, 3);
  EXPECT_EQ(a.failed, 1);
  ASSERT_TRUE(a.best_score);
  EXPECT_DOUBLE_EQ(*a.best_score, 70);
  EXPECT_EQ(a.best_trial, 3);
  EXPECT_DOUBLE_EQ(a.best_minutes, 3.0);
  EXPECT_EQ(a.best_params, 3000);
  EXPECT_EQ(a.best_text, "conv <x> & 'y'");
  EXPECT_EQ(a.best_hp, "");  // hpo off: every trial has the same
  EXPECT_DOUBLE_EQ(a.minutes, 4.0);
  EXPECT_EQ(a.fidelity, "2 epochs on 2000 images of fashion-mnist");
  // Every trial is a point; the incumbent curve has one per done trial.
  ASSERT_EQ(a.points.size(), 4u);
  const Curve by_trial = incumbent_by_trial(a.points);
  EXPECT_EQ(by_trial.x, (std::vector<double>{1, 3, 4}));
  EXPECT_EQ(by_trial.y, (std::vector<double>{50, 70, 70}));

  EXPECT_EQ(b.done, 2);
  EXPECT_EQ(b.failed, 0);
  EXPECT_EQ(b.trials, 3);
  EXPECT_DOUBLE_EQ(*b.best_score, 75.5);
  EXPECT_EQ(b.best_trial, 2);
  EXPECT_DOUBLE_EQ(b.best_minutes, 4.0);
  EXPECT_DOUBLE_EQ(c.minutes, 0.8);
  EXPECT_DOUBLE_EQ(c.best_minutes, 0.5);

  const std::string html = render_compare_html(r);
  EXPECT_TRUE(has(html,
                  "<h1>3 black-box searches compared</h1><p>nas_search runs: alpha, beta, "
                  "gamma</p>"));
  for (const char* id : {"searches", "incumbents", "score-params"})
    EXPECT_TRUE(has(html, std::string("<section id='") + id + "'>")) << id;
  EXPECT_FALSE(has(html, "id='problems'"));
  // The rows: name, folder (its path on hover), strategy, space, hpo, seed, done, failed, best, at
  // trial, found after (min), parameters, incumbent, training minutes. The best one is in bold.
  EXPECT_TRUE(
      has(html, "<tr><td>random (chain)</td><td title='" + dirs[0] +
                    "'>alpha</td><td>random</td><td>chain</td><td>off</td><td class='num'>1</td>"
                    "<td class='num'>3</td><td class='num'>1</td><td class='num'>70.00</td>"
                    "<td class='num'>3</td><td class='num'>3.0</td><td class='num'>3000</"
                    "td><td class='cand'>conv &lt;x&gt; &amp; &#39;y&#39;</td><td "
                    "class='num'>4.0</td></tr>"))
      << html;
  EXPECT_TRUE(has(html, "<tr class='best'><td>evolution</td>"));
  EXPECT_TRUE(has(html,
                  "<td class='num'>75.50</td><td class='num'>2</td><td class='num'>4.0</td>"
                  "<td class='num'>4000</td><td class='cand'>b2</td><td class='num'>4.0</td>"));
  EXPECT_TRUE(has(html, "<td class='num'>0.8</td></tr>"));
  EXPECT_TRUE(has(html, "<p>beta also holds 1 trial(s) running, pending or pruned.</p>"));
  // gamma trains one epoch, the others two.
  EXPECT_TRUE(has(html, "scores are not directly comparable"));
  EXPECT_TRUE(has(html, "<li>random (darts-cell): 1 epochs on 2000 images of fashion-mnist</li>"));

  // One series per search in each panel of the incumbent plot and in the scatter.
  const std::string svg = compare_incumbent_svg(r);
  for (const char* name : {"random (chain)", "evolution", "random (darts-cell)"}) {
    const std::string series = std::string("class='series' data-name='") + name + "'";
    EXPECT_EQ(occurrences(svg, series), 2u) << name;
    EXPECT_EQ(occurrences(html, series), 3u) << name;
  }
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_TRUE(has(svg, "wall-clock time (min)"));
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_EQ(read(dirs[0] + "/trials.sqlite"), db_bytes);  // only read
  EXPECT_FALSE(fs::exists(dirs[0] + "/trials.sqlite-journal"));
}

TEST(RunReportCompare, SearchesSharingAStrategyAreToldApart) {
  TempDir tmp;
  const std::vector<std::string> dirs = three_searches(tmp);
  // Same strategy and space: the folder tells them apart.
  fs::copy(dirs[0], tmp.sub("delta"), fs::copy_options::recursive);
  CompareReport r = build_compare_report({dirs[0], tmp.sub("delta"), dirs[1]});
  ASSERT_EQ(r.searches.size(), 3u);
  EXPECT_EQ(r.searches[0].name, "random (alpha)");
  EXPECT_EQ(r.searches[1].name, "random (delta)");
  EXPECT_EQ(r.searches[2].name, "evolution");
  // ... the same folder twice: its position.
  r = build_compare_report({dirs[1], dirs[1] + "/"});
  ASSERT_EQ(r.searches.size(), 2u);
  EXPECT_EQ(r.searches[0].name, "evolution (beta) #1");
  EXPECT_EQ(r.searches[1].name, "evolution (beta) #2");

  // Same strategy and space, other hyperparameter modes: the mode; the table shows the tuned
  // hyperparameters of the incumbent.
  FakeSearch joint = alpha();
  joint.hpo = "joint";
  joint.trials = {fake_done(60, 800, 10, "j1")};
  joint.trials[0].hp = {{"lr", 0.1}, {"batch_size", 64}};
  write_fake_search(tmp.sub("joint"), joint);
  r = build_compare_report({dirs[0], tmp.sub("joint")});
  ASSERT_EQ(r.searches.size(), 2u);
  EXPECT_EQ(r.searches[0].name, "random (hpo off)");
  EXPECT_EQ(r.searches[1].name, "random (hpo joint)");
  EXPECT_EQ(r.searches[1].best_hp, "batch_size 64, lr 0.1");
  EXPECT_TRUE(has(render_compare_html(r), "<td class='cand'>j1<br>batch_size 64, lr 0.1</td>"));
}

TEST(RunReportCompare, BrokenFoldersAreProblemLinesAndTheOthersAreShown) {
  TempDir tmp;
  const std::vector<std::string> dirs = three_searches(tmp);
  // A database cut short, one missing, no folder at all, a folder with nothing in it.
  const std::string cut = tmp.sub("cut"), nodb = tmp.sub("nodb"), empty = tmp.sub("empty");
  fs::copy(dirs[1], cut, fs::copy_options::recursive);
  const std::string bytes = read(cut + "/trials.sqlite");
  std::ofstream(cut + "/trials.sqlite", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  fs::copy(dirs[1], nodb, fs::copy_options::recursive);
  fs::remove(nodb + "/trials.sqlite");
  fs::create_directories(empty);
  const std::string missing = tmp.sub("missing");
  const CompareReport r = build_compare_report({dirs[0], cut, nodb, missing, empty, dirs[2]});
  EXPECT_TRUE(r.refused.empty());
  ASSERT_EQ(r.searches.size(), 2u);
  EXPECT_EQ(r.searches[0].dir, dirs[0]);
  EXPECT_EQ(r.searches[1].dir, dirs[2]);
  ASSERT_EQ(r.problems.size(), 4u);
  EXPECT_EQ(r.problems[0].rfind(cut + ": trials.sqlite cannot be read", 0), 0u) << r.problems[0];
  EXPECT_EQ(r.problems[1], nodb + ": trials.sqlite is missing (no trials to show)");
  EXPECT_EQ(r.problems[2], missing + " is not a folder");
  EXPECT_EQ(r.problems[3].rfind(empty + ": no black-box search here", 0), 0u) << r.problems[3];
  const std::string html = render_compare_html(r);
  EXPECT_TRUE(has(html, "<section id='problems'><h2>Problems with these folders</h2>"));
  EXPECT_TRUE(has(html, "<li>" + missing + " is not a folder</li>"));
  EXPECT_TRUE(has(html, "<h1>2 black-box searches compared</h1>"));
  EXPECT_TRUE(has(html, "<td>random (chain)</td>"));  // named among the shown searches only
  EXPECT_FALSE(has(html, "evolution"));

  // A search whose config.json is gone still shows what its database keeps of it.
  fs::remove(nodb + "/config.json");
  fs::copy_file(dirs[1] + "/trials.sqlite", nodb + "/trials.sqlite");
  const CompareReport n = build_compare_report({nodb, dirs[0]});
  ASSERT_EQ(n.searches.size(), 2u);
  EXPECT_EQ(n.searches[0].strategy, "evolution");
  EXPECT_EQ(n.searches[0].hpo, "off");
  ASSERT_EQ(n.problems.size(), 1u);
  EXPECT_EQ(n.problems[0], nodb + ": config.json is missing");
}

TEST(RunReportCompare, OtherKindsOfRunAreRefused) {
  TempDir tmp;
  const std::vector<std::string> dirs = three_searches(tmp);
  const std::string darts = tmp.sub("darts"), train = tmp.sub("train");
  fs::create_directories(darts);
  fs::create_directories(train);
  std::ofstream(darts + "/checkpoint.json") << json{{"format", "fusenas-darts"}}.dump();
  std::ofstream(train + "/train.log") << "nas_train\n";
  const CompareReport r = build_compare_report({dirs[0], darts, train});
  ASSERT_EQ(r.refused.size(), 2u);
  EXPECT_EQ(r.refused[0], darts + " holds a nas_darts (DARTS search) run");
  EXPECT_EQ(r.refused[1], train + " holds a nas_train (final training) run");
}

TEST(RunReportCompare, EveryStringIsEscaped) {
  TempDir tmp;
  FakeSearch odd = alpha();
  odd.strategy = "<evo>&'x'";
  odd.space = "<sp>";
  odd.trials = {fake_done(60, 100, 6, "<b>cell</b>")};
  const std::string dir = tmp.sub("a&b'<c>");
  write_fake_search(dir, odd);
  const std::string missing = tmp.sub("<gone>");
  const CompareReport r = build_compare_report({dir, missing});
  const std::string html = render_compare_html(r);
  for (const char* raw : {"<evo>", "<sp>", "<b>cell", "<c>", "<gone>", "'x'"})
    EXPECT_FALSE(has(html, raw)) << raw;
  EXPECT_TRUE(has(html, "<tr class='best'><td>&lt;evo&gt;&amp;&#39;x&#39;</td><td title='" +
                            escape_xml(dir) +
                            "'>a&amp;b&#39;&lt;c&gt;</td><td>&lt;evo&gt;&amp;&#39;x&#39;</td>"
                            "<td>&lt;sp&gt;</td>"))
      << html;
  EXPECT_TRUE(has(html, "data-name='&lt;evo&gt;&amp;&#39;x&#39;'"));
  EXPECT_TRUE(has(html, "<td class='cand'>&lt;b&gt;cell&lt;/b&gt;</td>"));
  EXPECT_TRUE(has(html, "&lt;gone&gt; is not a folder"));
  EXPECT_TRUE(has(html, "nas_search runs: a&amp;b&#39;&lt;c&gt;</p>"));
}

TEST(RunReportCompare, SearchesWithoutAFinishedTrial) {
  TempDir tmp;
  FakeSearch s = alpha(), t = beta();
  s.trials = {fake_failed(5)};
  t.trials = {fake_pending()};
  write_fake_search(tmp.sub("s"), s);
  write_fake_search(tmp.sub("t"), t);
  const CompareReport r = build_compare_report({tmp.sub("s"), tmp.sub("t")});
  ASSERT_EQ(r.searches.size(), 2u);
  EXPECT_FALSE(r.searches[0].best_score);
  const std::string html = render_compare_html(r);
  EXPECT_EQ(occurrences(html, "<td colspan='4'>no finished trial</td>"), 2u);
  EXPECT_EQ(occurrences(html, "No search has a finished trial yet."), 2u);
  EXPECT_FALSE(has(html, "class='best'"));
}

// Also the folders of the nas_report_cli.compare* cases, which set FUSENAS_COMPARE_FOLDERS to
// where they want them: a search of each strategy and a DARTS run.
TEST(RunReportCompare, CliFolders) {
  const TempDir tmp;
  const char* env = std::getenv("FUSENAS_COMPARE_FOLDERS");
  const std::string root = env && *env ? env : tmp.sub("cli");
  fs::remove_all(root);
  FakeSearch bo = beta();
  bo.strategy = "bo";
  write_fake_search(root + "/random", alpha());
  write_fake_search(root + "/evolution", beta());
  write_fake_search(root + "/bo", bo);
  fs::create_directories(root + "/darts");
  std::ofstream(root + "/darts/checkpoint.json") << json{{"format", "fusenas-darts"}}.dump();
  const CompareReport r =
      build_compare_report({root + "/random", root + "/evolution", root + "/bo"});
  EXPECT_EQ(r.searches.size(), 3u);
  EXPECT_TRUE(r.problems.empty());
}

}  // namespace
}  // namespace fusenas::nas::report
