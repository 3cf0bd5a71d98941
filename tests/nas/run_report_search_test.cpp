// nas_report on black-box search folders: a fixture search written through TrialDb (done, failed,
// pruned, running and pending trials with curves) gives the overview, plots, trial table and
// curves with the right counts and every file string escaped, the sortable table's keys and its
// one inline script, and the log's invocation lines (version, command, machine, resumes); a big
// search's table is capped; a corrupt or missing trial database costs a problem line, never the
// page; other runs are unchanged and script-free.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>  // linked through fusenas_nas; writes a big search at once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fusenas/nas/report/run_report.h"
#include "fusenas/nas/run/trial_db.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

void write(const std::string& dir, const std::string& name, const std::string& text) {
  fs::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary) << text;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has(const std::string& html, const std::string& text) {
  return html.find(text) != std::string::npos;
}

json search_config() {
  return {{"preset", "quick"},
          {"strategy", "evolution"},
          {"space", "chain"},
          {"space_options", {{"max_layers", 4}}},
          {"hpo", "off"},
          {"budget_trials", 10},
          {"budget_minutes", 0},
          {"epochs", 2},
          {"dataset", "fashion-mnist"},
          {"train_subset", 2000},
          {"batch_size", 96},
          {"lr", 0.05},
          {"momentum", 0.9},
          {"weight_decay", 3e-4},
          {"population", 0},
          {"tournament", 0},
          {"seed", 7}};
}

json epoch_row(int epoch, double acc) {
  return {{"epoch", epoch},       {"train_loss", 2.0 / epoch},
          {"train_acc", acc - 5}, {"val_loss", 1.5 / epoch},
          {"val_acc", acc},       {"lr", 0.05 / epoch},
          {"seconds", 1.25}};
}

NewTrial new_trial(int filters, json extra = json::object()) {
  NewTrial t;
  t.candidate = {{"layers", {{{"op", "conv_3x3"}, {"filters", filters}}}}};
  t.candidate.update(extra);
  t.encoding = {0.5f, 1.0f};
  t.hyperparameters = {{"batch_size", 96}, {"lr", 0.05}};
  t.fidelity = {{"epochs", 2}, {"train_subset", 2000}};
  return t;
}

// A trial trained for two epochs to `score`.
void done_trial(TrialDb& db, const NewTrial& nt, double score, int64_t params, json metrics = {}) {
  const int64_t id = db.add(nt);
  db.start(id);
  db.append_epoch(id, epoch_row(1, score - 10));
  db.append_epoch(id, epoch_row(2, score));
  TrialResult r;
  r.metrics = metrics.is_object() ? metrics : json::object();
  r.metrics["val_acc"] = score;
  r.score = score;
  r.params = params;
  r.wall_seconds = 30;
  db.finish(id, r);
}

// Trials: 1 done (61.5%, 5000 params), 2 done (72.25%, 20000: the incumbent), 3 done (55%, 30000:
// off the Pareto front), 4 failed after an epoch, 5 pruned, 6 running with one epoch, 7 pending.
void write_trials(const std::string& path) {
  TrialDb db = TrialDb::create(path, {"evolution", "chain", 7, search_config()});
  done_trial(db, new_trial(16), 61.5, 5000, {{"text", "conv3x3-16 <a> & 'b'"}});
  NewTrial second = new_trial(32);
  second.hyperparameters["optimizer"] = "<i>sgd</i>";
  done_trial(db, second, 72.25, 20000);
  done_trial(db, new_trial(64, {{"note", "<b>x</b>&'"}}), 55.0, 30000);
  const int64_t failed = db.add(new_trial(8));
  db.start(failed);
  db.append_epoch(failed, epoch_row(1, 10));
  db.fail(failed, "diverged: <nan> & \"loss\"", 3.5);
  db.prune(db.add(new_trial(4)), "too slow");
  const int64_t running = db.add(new_trial(12));
  db.start(running);
  db.append_epoch(running, epoch_row(1, 40));
  db.add(new_trial(24));
}

// The database is written once and copied: each state change is a synced commit.
void write_search(const std::string& dir, bool finished) {
  static const TempDir made;
  static const std::string db = [] {
    const std::string path = made.sub(TrialDb::kFile);
    write_trials(path);
    return path;
  }();
  fs::create_directories(dir);
  fs::copy_file(db, dir + "/" + TrialDb::kFile, fs::copy_options::overwrite_existing);
  write(dir, "config.json", search_config().dump());
  write(dir, "checkpoint.json",
        json{{"format", "fusenas-search"}, {"version", 1}, {"finished", finished}, {"trials", 7}}
            .dump());
  write(dir, "incumbent.json",
        json{{"trial", 2},
             {"score", 72.25},
             {"space", "chain"},
             {"arch", {{"layers", json::array()}}},
             {"hp", {{"batch_size", 96}, {"lr", 0.05}}},
             {"text", "conv <3x3> & 'x'"},
             {"train_command", "nas_train --arch 'a&b' <x>"}}
            .dump());
  write(dir, "search.log",
        "2026-01-01 09:59:59 nas_search 0.1.0 (git abc123); host: node<7>; cpu: Xeon & co; "
        "command: nas_search --strategy evolution --out 'a b'\n"
        "2026-01-01 10:00:00 nas_search: evolution over the chain space <evo>\n"
        "2026-01-01 10:01:00 trial 4/10 failed: diverged\n"
        "2026-01-01 11:00:00 nas_search 0.1.1 (git def456); host: other; command: nas_search "
        "--resume 'a b'\n");
}

TEST(RunReportSearch, SearchFolderShowsOverviewPlotsTrialsAndCurves) {
  TempDir tmp;
  const std::string dir = tmp.sub("search");
  write_search(dir, false);
  const std::string db_bytes = read(dir + "/trials.sqlite");
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.kind, RunKind::kSearch);
  EXPECT_EQ(r.state, RunState::kStopped);  // not finished, nobody holds the lock
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  for (const char* id : {"overview", "search", "trials", "trial-curves", "config"})
    EXPECT_NE(r.find(id), nullptr) << id;
  for (const char* id : {"result", "curves", "alphas", "controller"})
    EXPECT_EQ(r.find(id), nullptr);
  const std::string html = render_html(r);

  // The overview: what was searched, the counts, the incumbent; a failed trial's "diverged" in
  // the log is no divergence of the run.
  EXPECT_TRUE(has(html, "nas_search (black-box search)"));
  EXPECT_TRUE(has(html, "<td>evolution, seed 7</td>"));
  EXPECT_TRUE(has(html, "chain <code>{&quot;max_layers&quot;:4}</code>"));
  EXPECT_TRUE(has(html, "off: every trial trains with batch size 96, lr 0.05"));
  EXPECT_TRUE(has(html, "<td>10 trials</td>"));
  EXPECT_TRUE(has(html, "7 in the database: 3 done, 1 failed, 1 running, 1 pending, 1 pruned"));
  EXPECT_TRUE(has(html, "93.5 s (1.6 min)"));  // 3 x 30 s + 3.5 s
  EXPECT_TRUE(has(html, "trial 2: search-val accuracy 72.25%, 20000 parameters (0.020 M)"));
  EXPECT_TRUE(has(html, "<code>conv &lt;3x3&gt; &amp; &#39;x&#39;</code>"));
  EXPECT_TRUE(has(html, "<pre class='wrap'>nas_train --arch &#39;a&amp;b&#39; &lt;x&gt;</pre>"));
  EXPECT_TRUE(has(html, "nas_search: evolution over the chain space &lt;evo&gt;"));
  // Where it comes from: the invocation lines of its start and its resume.
  EXPECT_TRUE(has(html, "<tr><th>version</th><td>nas_search 0.1.0 (git abc123)</td></tr>"));
  EXPECT_TRUE(has(html,
                  "<tr><th>command</th><td><code>nas_search --strategy evolution --out "
                  "&#39;a b&#39;</code></td></tr>"));
  EXPECT_TRUE(has(html, "<tr><th>machine</th><td>host node&lt;7&gt;, CPU Xeon &amp; co</td></tr>"));
  EXPECT_TRUE(has(html, "<tr><th>started</th><td>2026-01-01 09:59:59</td></tr>"));
  EXPECT_TRUE(has(html,
                  "<tr><th>resumed</th><td>1 time:<br>2026-01-01 11:00:00: <code>nas_search "
                  "--resume &#39;a b&#39;</code> on host other with nas_search 0.1.1 (git "
                  "def456)</td></tr>"));
  // The log's header skips the invocation lines, shown above.
  EXPECT_TRUE(has(html, "<pre class='wrap'>2026-01-01 10:00:00 nas_search: evolution"));
  EXPECT_FALSE(has(html, "The log reports a divergence"));

  // The plots, drawn from the database.
  EXPECT_TRUE(has(html, "best search-val accuracy (%) so far"));
  EXPECT_TRUE(has(html,
                  "Pareto front (no other trial scores higher with at most as many "
                  "parameters): trial 1 (5000 parameters, 61.50%); trial 2 (20000 "
                  "parameters, 72.25%)."));

  // The table: done trials best first, then running, pending, failed and pruned.
  // Cells whose text is not their sort value carry it in data-key: the status in the table's
  // order, the rank without the front's mark, the full score, the finished epochs.
  const size_t t2 = html.find(
      "<td>2</td><td data-key='0'>done</td><td data-key='1'>1 \u25c6</td>"
      "<td data-key='72.25'>72.25</td>");
  const size_t t1 = html.find(
      "<td>1</td><td data-key='0'>done</td><td data-key='2'>2 \u25c6</td>"
      "<td data-key='61.5'>61.50</td>");
  const size_t t3 = html.find(
      "<td>3</td><td data-key='0'>done</td><td data-key='3'>3</td><td data-key='55'>55.00</td>");
  const size_t t6 = html.find("<td>6</td><td data-key='1'>running</td><td data-key=''></td>");
  const size_t t7 = html.find("<td>7</td><td data-key='2'>pending</td>");
  const size_t t4 = html.find("<td>4</td><td data-key='3'>failed</td>");
  const size_t t5 = html.find("<td>5</td><td data-key='4'>pruned</td>");
  ASSERT_NE(t2, std::string::npos);
  EXPECT_TRUE(t2 < t1 && t1 < t3 && t3 < t6 && t6 < t7 && t7 < t4 && t4 < t5)
      << t2 << " " << t1 << " " << t3 << " " << t6 << " " << t7 << " " << t4 << " " << t5;
  EXPECT_TRUE(has(html, "<tr class='trial-done best'><td>2</td>"));
  EXPECT_TRUE(has(html, "<td>20000</td><td data-key='2'>2/2</td><td>30.0</td>"));
  EXPECT_TRUE(has(html, "<td data-key='1'>1/2</td><td>3.5</td>"));  // the failed trial's
  // Headers say how their column compares; the rows sit in a tbody that the script reorders.
  EXPECT_TRUE(has(html,
                  "<table class='trials' data-sortable='1'><thead><tr><th data-sort='num'>trial"
                  "</th><th data-sort='num'>status</th><th data-sort='num'>rank</th>"));
  EXPECT_TRUE(has(html, "<th data-sort='text'>hyperparameters</th>"));
  EXPECT_TRUE(has(html, "</tr></thead><tbody><tr class='trial-done best'>"));
  EXPECT_TRUE(has(html, "</tr></tbody></table>"));
  EXPECT_TRUE(has(html, "batch_size 96, lr 0.05, optimizer &lt;i&gt;sgd&lt;/i&gt;"));
  EXPECT_TRUE(has(html, ">conv3x3-16 &lt;a&gt; &amp; &#39;b&#39;</td>"));  // the metrics' text
  EXPECT_TRUE(has(html, "&quot;note&quot;:&quot;&lt;b&gt;x&lt;/b&gt;&amp;&#39;&quot;"));
  EXPECT_TRUE(has(html, "<td>diverged: &lt;nan&gt; &amp; &quot;loss&quot;</td>"));
  EXPECT_TRUE(has(html, "<td>too slow</td>"));
  EXPECT_FALSE(has(html, "Showing"));  // a small search shows every trial

  // The curves: the best done trials and the running one.
  EXPECT_TRUE(has(html, "Search-val accuracy per epoch"));
  EXPECT_TRUE(has(html, "trial 2 (72.25%)"));
  EXPECT_TRUE(has(html, "trial 6 (running)"));

  // Nothing from the files reaches the page unescaped; nothing is fetched or run.
  for (const char* raw : {"<a>", "<b>", "<i>", "<x>", "<nan>", "<3x3>", "<evo>"})
    EXPECT_FALSE(has(html, raw)) << raw;
  // One script, the inline table sorter at the end of the body, and it fetches nothing.
  const size_t script = html.find("<script>");
  ASSERT_NE(script, std::string::npos);
  EXPECT_EQ(html.find("<script", script + 1), std::string::npos);
  EXPECT_TRUE(has(html.substr(script), "table[data-sortable]"));
  EXPECT_TRUE(has(html, "</footer><script>"));
  EXPECT_TRUE(has(html, "</script></body></html>"));
  for (const char* fetch : {"src=", "fetch(", "XMLHttpRequest", "import("})
    EXPECT_FALSE(has(html, fetch)) << fetch;
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  // Reading never changes the database.
  EXPECT_EQ(read(dir + "/trials.sqlite"), db_bytes);
  EXPECT_FALSE(fs::exists(dir + "/trials.sqlite-journal"));
}

TEST(RunReportSearch, StateAndIncumbentFollowTheFolder) {
  TempDir tmp;
  const std::string dir = tmp.sub("search");
  write_search(dir, true);
  EXPECT_EQ(build_run_report(dir).state, RunState::kFinished);

  // incumbent.json lags behind the database by one trial in a live search.
  write(dir, "incumbent.json", json{{"trial", 1}, {"score", 61.5}, {"text", "c16"}}.dump());
  std::string html = render_html(build_run_report(dir));
  EXPECT_TRUE(has(html, "trial 1: search-val accuracy 61.50%, 5000 parameters"));
  EXPECT_TRUE(has(html, "already holds a better trial: trial 2 (72.25%)"));
  EXPECT_TRUE(has(html, "names no <code>nas_train</code> command"));

  // Before the first incumbent.json: the database's best.
  fs::remove(dir + "/incumbent.json");
  html = render_html(build_run_report(dir));
  EXPECT_TRUE(has(html, "trial 2: search-val accuracy 72.25%, 20000 parameters"));
  EXPECT_TRUE(has(html, "this is the trial database&#39;s best") ||
              has(html, "this is the trial database's best"));

  // A search that has not finished a trial yet.
  const std::string fresh = tmp.sub("fresh");
  fs::create_directories(fresh);
  TrialDb::create(fresh + "/" + TrialDb::kFile, {"random", "chain", 1, search_config()});
  write(fresh, "config.json", search_config().dump());
  write(fresh, "search.log", "nas_search: random\n");
  const RunReport f = build_run_report(fresh);
  EXPECT_EQ(f.kind, RunKind::kSearch);
  EXPECT_EQ(f.state, RunState::kUnknown);
  html = render_html(f);
  EXPECT_TRUE(has(html, "0 in the database: 0 done, 0 failed"));
  EXPECT_TRUE(has(html, "No trial has finished yet"));
  EXPECT_TRUE(has(html, "No learning curves yet"));
}

// Trials 1..done (trial i scores i% with 1000 i parameters), then `failed` failed ones, written
// in one unsynced transaction: through TrialDb each would cost a few synced commits.
void write_many_trials(const std::string& path, int done, int failed) {
  TrialDb::create(path, {"random", "chain", 1, search_config()});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = "PRAGMA synchronous=OFF; BEGIN;";
  for (int i = 1; i <= done + failed; ++i) {
    const bool ok = i <= done;
    sql += fmt::format(
        "INSERT INTO trials(id, candidate, encoding, hyperparameters, fidelity, status, "
        "attempts, metrics, score, params, wall_seconds, error, created_at, updated_at) VALUES "
        "({0}, '{{\"filters\": {0}}}', '[]', '{{\"lr\": 0.1}}', '{{\"epochs\": 2}}', '{1}', 1, "
        "{2}, {3}, {4}, 1.0, {5}, 0, 0);",
        i, ok ? "done" : "failed", ok ? fmt::format("'{{\"score\": {}}}'", i) : "NULL",
        ok ? std::to_string(i) : "NULL", 1000 * i, ok ? "NULL" : "'out of memory'");
  }
  sql += "COMMIT;";
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(RunReportSearch, BigSearchTableIsCapped) {
  TempDir tmp;
  const std::string dir = tmp.sub("big");
  fs::create_directories(dir);
  write_many_trials(dir + "/" + TrialDb::kFile, 58, 4);
  write(dir, "checkpoint.json", json{{"format", "fusenas-search"}, {"finished", true}}.dump());
  const std::string html = render_html(build_run_report(dir));
  EXPECT_TRUE(has(html, "Showing 54 of 62 trials: the best 50 done"));
  EXPECT_TRUE(has(html, "Left out: 8 done."));
  // The same hyperparameters in all: said once, no column.
  EXPECT_TRUE(has(html, "<th data-sort='num'>wall (s)</th><th data-sort='text'>candidate</th>"));
  EXPECT_TRUE(has(html, "<p>Every trial trains with lr 0.1.</p>"));
  EXPECT_TRUE(has(html, "<td>58</td><td data-key='0'>done</td><td data-key='1'>1 \u25c6</td>"));
  EXPECT_TRUE(has(html, "<td>9</td><td data-key='0'>done</td><td data-key='50'>50"));  // 50th
  EXPECT_FALSE(has(html, "<td>8</td><td data-key='0'>done</td>"));  // the 51st is left out
  EXPECT_TRUE(has(html, "<td>62</td><td data-key='3'>failed</td><td data-key=''></td>"));
  EXPECT_TRUE(has(html, "config.json is missing"));  // and the page is still written
}

TEST(RunReportSearch, CorruptOrMissingDatabaseIsAProblemLine) {
  TempDir tmp;
  const std::string dir = tmp.sub("corrupt");
  write_search(dir, false);
  const std::string db = dir + "/" + TrialDb::kFile;
  const std::string bytes = read(db);
  // Garbage, a database cut short, then none at all.
  for (const std::string& content : {std::string("not a database, garbage\n"),
                                     bytes.substr(0, bytes.size() / 2), std::string()}) {
    if (content.empty()) {
      fs::remove(db);
    } else {
      write(dir, TrialDb::kFile, content);
    }
    const RunReport r = build_run_report(dir);
    EXPECT_EQ(r.kind, RunKind::kSearch);
    ASSERT_FALSE(r.problems.empty());
    const std::string want =
        content.empty() ? "trials.sqlite is missing" : "trials.sqlite cannot be read";
    EXPECT_EQ(r.problems.size(), 1u) << r.problems.back();
    EXPECT_TRUE(has(r.problems.front(), want)) << r.problems.front();
    const std::string html = render_html(r);
    EXPECT_TRUE(has(html, "<section id='problems'>"));
    EXPECT_TRUE(has(html, "No trials: trials.sqlite is missing or unreadable"));
    // What the other files hold is still shown.
    EXPECT_TRUE(has(html, "trial 2: search-val accuracy 72.25%"));
    EXPECT_TRUE(has(html, "<td>10 trials</td>"));
  }
  // Detected by its config alone: a search that has not written its checkpoint yet.
  const std::string early = tmp.sub("early");
  write(early, "config.json", search_config().dump());
  EXPECT_EQ(build_run_report(early).kind, RunKind::kSearch);
}

TEST(RunReportSearch, OtherRunsHaveNoSearchSections) {
  TempDir tmp;
  const std::string dir = tmp.sub("train");
  write(dir, "config.json", json{{"epochs", 2}, {"init_channels", 8}}.dump());
  write(dir, "metrics.jsonl",
        json{{"epoch", 1}, {"train_loss", 2.1}, {"test_acc", 35.0}, {"lr", 0.05}}.dump() + "\n");
  write(dir, "train.log", "nas_train: DARTS_V2\n");
  write(dir, "checkpoint.json", json{{"format", "fusenas-train"}, {"epoch", 1}}.dump());
  const RunReport r = build_run_report(dir);
  EXPECT_EQ(r.kind, RunKind::kTrain);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  for (const char* id : {"overview", "result", "curves", "config"}) EXPECT_NE(r.find(id), nullptr);
  for (const char* id : {"search", "trials", "trial-curves"}) EXPECT_EQ(r.find(id), nullptr);
  const std::string html = render_html(r);
  EXPECT_TRUE(has(html, "epochs finished</th><td>1 of 2"));
  EXPECT_FALSE(has(html, "trials.sqlite"));
  EXPECT_FALSE(has(html, "<script"));  // the sort script is for search pages only
  EXPECT_FALSE(has(html, "data-sortable"));
}

}  // namespace
}  // namespace fusenas::nas::report
