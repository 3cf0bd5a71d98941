// The trial database: every field survives a reopen, only possible state changes happen, a resume
// requeues what a dead process left running, a SIGKILL mid-write leaves consistent trials, and
// files that are not this search's database are refused with a clear message.
#include "fusenas/nas/run/trial_db.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>  // linked through fusenas_nas; builds foreign and edited databases
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::message_of;
using testing::TempDir;

SearchIdentity identity() {
  return {"evolution", "chain", 7, {{"population", 20}, {"sample", 5}}};
}

NewTrial new_trial(int n) {
  NewTrial t;
  t.candidate = {{"layers", {{{"op", "conv_3x3"}, {"filters", 16 + n}}}}};
  t.encoding = {0.1f, 1.0f / 3.0f, 1e-7f, 0.0f, 1.0f};
  t.hyperparameters = {{"lr", 0.025}, {"batch_size", 64}};
  t.fidelity = {{"epochs", 3}, {"train_subset", 5000}};
  return t;
}

TrialResult result(double score, nlohmann::json metrics = nlohmann::json::object()) {
  TrialResult r;
  r.metrics = std::move(metrics);
  r.score = score;
  return r;
}

// Runs SQL on a database file through the plain sqlite3 API, as another program would.
void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// A pid that no process holds any more: a child that exited and was reaped.
int64_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(TrialDb, EveryFieldRoundTrips) {
  TempDir tmp;
  const std::string path = tmp.sub(TrialDb::kFile);
  SearchIdentity id = identity();
  id.seed = UINT64_MAX;  // past int64: stored as text
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  {
    TrialDb db = TrialDb::create(path, id);
    NewTrial t = new_trial(1);
    t.params = 1234;
    EXPECT_EQ(db.add(t), 1);
    EXPECT_EQ(db.add(new_trial(2)), 2);
    db.start(1, 4242);
    EXPECT_EQ(db.append_epoch(1, {{"epoch", 1}, {"val_acc", 61.5}}), 1);
    EXPECT_EQ(db.append_epoch(1, {{"epoch", 2}, {"val_acc", 70.25}}), 2);
    db.finish(1, {{{"val_acc", 70.25}, {"test_loss", 0.8}}, 70.25, 5678, 12.5});
    db.start(2);
    db.fail(2, "diverged: loss is nan at epoch 1");
  }
  const TrialDb db = TrialDb::open(path);
  EXPECT_EQ(db.identity(), id);
  const std::vector<Trial> all = db.trials();
  ASSERT_EQ(all.size(), 2u);
  const Trial& a = all[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.candidate, new_trial(1).candidate);
  EXPECT_EQ(a.encoding, new_trial(1).encoding);  // bit for bit
  EXPECT_EQ(a.hyperparameters, new_trial(1).hyperparameters);
  EXPECT_EQ(a.fidelity, new_trial(1).fidelity);
  EXPECT_EQ(a.status, TrialStatus::kDone);
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(a.pid, 4242);
  ASSERT_EQ(a.curve.size(), 2u);
  EXPECT_EQ(a.curve[1], (nlohmann::json{{"epoch", 2}, {"val_acc", 70.25}}));
  EXPECT_EQ(a.metrics, (nlohmann::json{{"val_acc", 70.25}, {"test_loss", 0.8}, {"score", 70.25}}));
  EXPECT_EQ(a.score, 70.25);
  EXPECT_EQ(a.params, 5678);  // the count after training replaces the estimate
  EXPECT_EQ(a.wall_seconds, 12.5);
  EXPECT_TRUE(a.error.empty());
  ASSERT_TRUE(a.started && a.finished);
  EXPECT_GE(a.created, before - 1);
  EXPECT_LE(a.created, *a.started);
  EXPECT_LE(*a.started, *a.finished);
  EXPECT_EQ(a.updated, *a.finished);

  const Trial& b = db.trial(2);
  EXPECT_EQ(b.status, TrialStatus::kFailed);
  EXPECT_EQ(b.pid, ::getpid());
  EXPECT_EQ(b.error, "diverged: loss is nan at epoch 1");
  EXPECT_TRUE(b.metrics.is_null());
  EXPECT_FALSE(b.score || b.params);
  ASSERT_TRUE(b.wall_seconds);  // measured from the start when not given
  EXPECT_GE(*b.wall_seconds, 0);
  EXPECT_LT(*b.wall_seconds, 60);
  EXPECT_EQ(db.count(), 2);
  EXPECT_EQ(db.count(TrialStatus::kFailed), 1);
}

TEST(TrialDb, OnlyPossibleTransitionsHappen) {
  TempDir tmp;
  TrialDb db = TrialDb::create(tmp.sub(TrialDb::kFile), identity());
  const int64_t t = db.add(new_trial(1));
  expect_error([&] { db.finish(t, result(50)); },
               {"cannot finish trial 1: it is pending (only a running trial can)"});
  expect_error([&] { db.fail(t, "oom"); }, {"cannot fail trial 1: it is pending"});
  expect_error(
      [&] {
        db.append_epoch(t, {{"epoch", 1}});
      },
      {"cannot append an epoch to trial 1: it is pending"});
  expect_error([&] { db.start(42); },
               {"cannot start trial 42: no such trial (the database holds 1)"});
  db.start(t);
  expect_error([&] { db.start(t); }, {"cannot start trial 1: it is running"});
  expect_error([&] { db.finish(t, result(NAN)); },
               {"cannot finish with score nan (fail it instead)"});
  expect_error([&] { db.fail(t, ""); }, {"failed without a reason"});
  db.append_epoch(t, {{"epoch", 1}});
  db.finish(t, result(50));
  for (auto change : std::vector<std::function<void()>>{
           [&] { db.start(t); }, [&] { db.finish(t, result(60)); }, [&] { db.fail(t, "x"); },
           [&] { db.prune(t, "x"); }, [&] { db.append_epoch(t, {}); }}) {
    expect_error(change, {"trial 1: it is done"});
  }
  EXPECT_EQ(db.trial(t).score, 50);  // a refused change changes nothing
  EXPECT_EQ(db.trial(t).curve.size(), 1u);

  const int64_t queued = db.add(new_trial(2)), running = db.add(new_trial(3));
  db.prune(queued, "budget spent");
  db.start(running);
  db.prune(running, "worse than the median at epoch 1");
  EXPECT_EQ(db.trial(queued).status, TrialStatus::kPruned);
  EXPECT_FALSE(db.trial(queued).wall_seconds);  // it never ran
  EXPECT_EQ(db.trial(running).error, "worse than the median at epoch 1");
  expect_error([&] { db.start(queued); }, {"it is pruned"});
}

TEST(TrialDb, ResumeRequeuesTrialsLeftRunningAndKeepsFinishedOnes) {
  TempDir tmp;
  const std::string path = tmp.sub(TrialDb::kFile);
  const int64_t gone = dead_pid();
  Trial done_before;
  {
    TrialDb db = TrialDb::create(path, identity());
    for (int i = 1; i <= 5; ++i) db.add(new_trial(i));
    db.start(1);
    db.append_epoch(1, {{"epoch", 1}});
    db.finish(1, {{{"val_acc", 80}}, 80, 100, 3});
    db.start(2, gone);  // left running by a process that died
    db.append_epoch(2, {{"epoch", 1}});
    db.start(3);  // left running by this (live) process
    db.start(5);
    db.fail(5, "out of memory");
    done_before = db.trial(1);
  }
  TrialDb db = TrialDb::open_or_create(path, identity());
  EXPECT_EQ(db.requeue_running(Requeue::kDeadProcesses), 1);
  Trial two = db.trial(2);
  EXPECT_EQ(two.status, TrialStatus::kPending);
  EXPECT_TRUE(two.curve.empty());  // it runs again from scratch
  EXPECT_FALSE(two.pid || two.started);
  EXPECT_EQ(two.attempts, 1);
  EXPECT_EQ(db.trial(3).status, TrialStatus::kRunning);
  // The caller holds the run folder's lock: nothing else can be running a trial.
  EXPECT_EQ(db.requeue_running(Requeue::kAll), 1);
  EXPECT_EQ(db.trial(3).status, TrialStatus::kPending);
  EXPECT_EQ(db.requeue_running(Requeue::kAll), 0);

  const Trial one = db.trial(1);
  EXPECT_EQ(one.status, TrialStatus::kDone);
  EXPECT_EQ(one.metrics, done_before.metrics);
  EXPECT_EQ(one.curve, done_before.curve);
  EXPECT_EQ(one.finished, done_before.finished);
  EXPECT_EQ(one.updated, done_before.updated);
  EXPECT_EQ(db.trial(4).status, TrialStatus::kPending);
  EXPECT_EQ(db.trial(5).status, TrialStatus::kFailed);
  db.start(2);
  EXPECT_EQ(db.trial(2).attempts, 2);
}

TEST(TrialDb, AResumeOfAnotherSearchIsRefused) {
  TempDir tmp;
  const std::string path = tmp.sub(TrialDb::kFile);
  TrialDb::create(path, identity()).add(new_trial(1));
  SearchIdentity other = identity();
  other.strategy = "random";
  expect_error([&] { TrialDb::open_or_create(path, other); },
               {path, "belongs to another search: strategy is evolution there and random here"});
  other = identity();
  other.config["population"] = 50;
  expect_error([&] { TrialDb::open_or_create(path, other); }, {"config is"});
  EXPECT_EQ(TrialDb::open_or_create(path, identity()).count(), 1);
  expect_error([&] { TrialDb::create(path, identity()); }, {path, "already holds one"});
}

// A search begun before a config key existed resumes once its stored config is read with that
// key's default (the searcher normalises through its config loader); another value is refused.
TEST(TrialDb, AStoredConfigIsComparedAfterNormalising) {
  TempDir tmp;
  const std::string path = tmp.sub(TrialDb::kFile);
  TrialDb::create(path, identity()).add(new_trial(1));
  SearchIdentity newer = identity();
  newer.config["estimator"] = "full";
  const auto with_default = [](nlohmann::json j) {
    if (!j.contains("estimator")) j["estimator"] = "full";
    return j;
  };
  expect_error([&] { TrialDb::open_or_create(path, newer); }, {"config is"});
  EXPECT_EQ(TrialDb::open_or_create(path, newer, with_default).count(), 1);
  newer.config["estimator"] = "curve";
  expect_error([&] { TrialDb::open_or_create(path, newer, with_default); }, {"config is"});
}

// The child's search loop: resume, then trials of 3 epochs each, finished, failed or pruned by id;
// writes one byte to `ended` after each trial it ends. Never returns.
[[noreturn]] void search_until_killed(const std::string& path, int ended) {
  try {
    TrialDb db = TrialDb::open(path);
    db.requeue_running(Requeue::kDeadProcesses);
    for (int i = 0; i < 100000; ++i) {
      int64_t id = 0;
      for (const Trial& t : db.trials()) {
        if (t.status == TrialStatus::kPending) {
          id = t.id;
          break;
        }
      }
      if (id == 0) id = db.add(new_trial(i));
      db.start(id);
      for (int e = 1; e <= 3; ++e) db.append_epoch(id, {{"epoch", e}, {"trial", id}});
      if (id % 4 == 0) {
        db.fail(id, "diverged");
      } else if (id % 4 == 1) {
        db.prune(id, "pruned");
      } else {
        db.finish(id, result(static_cast<double>(id), {{"val_acc", static_cast<double>(id)}}));
      }
      const char byte = 1;
      if (::write(ended, &byte, 1) != 1) ::_exit(2);
    }
  } catch (...) {
    ::_exit(3);
  }
  ::_exit(0);
}

// gtest expectations that each trial is in one of its states, with what that state implies.
void expect_consistent(const std::vector<Trial>& trials, int64_t killed_pid) {
  for (size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    SCOPED_TRACE(::testing::Message() << "trial " << t.id << " " << to_string(t.status));
    EXPECT_EQ(t.id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(t.encoding.size(), 5u);
    EXPECT_TRUE(t.candidate.contains("layers"));
    for (size_t e = 0; e < t.curve.size(); ++e) {
      EXPECT_EQ(t.curve[e], (nlohmann::json{{"epoch", e + 1}, {"trial", t.id}}));
    }
    const bool ended = t.status == TrialStatus::kDone || t.status == TrialStatus::kFailed ||
                       t.status == TrialStatus::kPruned;
    EXPECT_EQ(ended, t.finished.has_value());
    switch (t.status) {
      case TrialStatus::kPending:
        EXPECT_TRUE(t.curve.empty());
        EXPECT_FALSE(t.pid || t.started);
        break;
      case TrialStatus::kRunning:
        EXPECT_EQ(t.pid, killed_pid);
        EXPECT_LE(t.curve.size(), 3u);
        break;
      case TrialStatus::kDone:
        EXPECT_GT(t.id % 4, 1);
        EXPECT_EQ(t.curve.size(), 3u);
        EXPECT_EQ(t.score, static_cast<double>(t.id));
        EXPECT_EQ(t.metrics.value("score", -1.0), static_cast<double>(t.id));
        break;
      case TrialStatus::kFailed:
        EXPECT_EQ(t.id % 4, 0);
        EXPECT_EQ(t.error, "diverged");
        break;
      case TrialStatus::kPruned:
        EXPECT_EQ(t.id % 4, 1);
        EXPECT_EQ(t.error, "pruned");
        break;
    }
    if (t.status != TrialStatus::kPending) {
      EXPECT_GE(t.attempts, 1);
    }
    if (t.status != TrialStatus::kDone) {
      EXPECT_TRUE(t.metrics.is_null());
    }
  }
}

TEST(TrialDb, ASigkillMidWriteLeavesEveryTrialConsistent) {
  TempDir tmp;
  const std::string path = tmp.sub(TrialDb::kFile);
  TrialDb::create(path, identity());
  std::map<int64_t, Trial> ended;  // trials that ended in an earlier round never change
  int hot_kills = 0;
  // Most of the child's time is spent inside commits (fsync), so most kills land in one; go on
  // until two have.
  for (int round = 0; round < 30 && (round < 6 || hot_kills < 2); ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      search_until_killed(path, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // Every round ends a trial before the kill, however slow the disk's fsyncs are.
    char byte = 0;
    ASSERT_EQ(::read(pipe_fds[0], &byte, 1), 1) << "the child failed before ending a trial";
    // Different moments each round, so the kill lands in different places of a commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * (round % 6)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::close(pipe_fds[0]);  // only now, so no write of the child ever meets a closed pipe
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child stopped by itself with " << status;

    // A journal left behind means the kill landed inside a transaction.
    hot_kills += fs::exists(path + "-journal");
    const TrialDb db = TrialDb::open(path);
    const std::vector<Trial> trials = db.trials();
    expect_consistent(trials, child);
    for (const Trial& t : trials) {
      const auto it = ended.find(t.id);
      if (it != ended.end()) {
        EXPECT_EQ(t.status, it->second.status) << "trial " << t.id;
        EXPECT_EQ(t.updated, it->second.updated) << "trial " << t.id;
      } else if (t.finished) {
        ended[t.id] = t;
      }
    }
  }
  EXPECT_GT(ended.size(), 0u);
  EXPECT_GE(hot_kills, 1);
}

TEST(TrialDb, FilesThatAreNotThisSchemaAreRefused) {
  TempDir tmp;
  const std::string text = tmp.sub("notes.sqlite");
  std::ofstream(text) << std::string(3000, 'x');
  expect_error([&] { TrialDb::open(text); },
               {text, "is not a FuseNAS trial database (file is not a database)"});
  expect_error([&] { TrialDb::create(text, identity()); }, {"is not a FuseNAS trial database"});

  const std::string foreign = tmp.sub("foreign.sqlite");
  raw_sql(foreign, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)");
  expect_error([&] { TrialDb::open(foreign); },
               {foreign, "is not a FuseNAS trial database (a SQLite database of another program)"});
  expect_error([&] { TrialDb::create(foreign, identity()); },
               {"a SQLite database of another program"});

  const std::string empty = tmp.sub("empty.sqlite");
  std::ofstream{empty};
  expect_error([&] { TrialDb::open(empty); }, {"(an empty SQLite database)"});
  // What a creation killed before its commit leaves is taken over.
  EXPECT_EQ(TrialDb::create(empty, identity()).count(), 0);

  const std::string newer = tmp.sub("newer.sqlite");
  TrialDb::create(newer, identity());
  raw_sql(newer, "PRAGMA user_version = 2");
  expect_error([&] { TrialDb::open(newer); },
               {newer,
                "was written by a newer FuseNAS: trial database schema version 2, this "
                "build reads version 1"});
  raw_sql(newer, "PRAGMA user_version = 0");
  expect_error([&] { TrialDb::open(newer); },
               {newer, "has an unknown trial database schema version 0"});
}

TEST(TrialDb, MissingAndReadOnlyFoldersGiveClearErrors) {
  TempDir tmp;
  const std::string missing = tmp.sub("nowhere/trials.sqlite");
  expect_error([&] { TrialDb::create(missing, identity()); },
               {"cannot create trial database " + missing, "folder " + tmp.sub("nowhere"),
                "does not exist"});
  expect_error([&] { TrialDb::open(tmp.sub("absent.sqlite")); }, {"no such file"});
  EXPECT_FALSE(fs::exists(tmp.sub("nowhere")));

  fs::create_directories(tmp.sub("ro"));
  fs::permissions(tmp.sub("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  // root writes into any folder whatever its mode; /proc/self is one nobody can create files in.
  const std::string folder =
      ::access(tmp.sub("ro").c_str(), W_OK) == 0 ? "/proc/self" : tmp.sub("ro");
  const std::string path = folder + "/trials.sqlite";
  const std::string msg = message_of([&] { TrialDb::create(path, identity()); });
  EXPECT_NE(msg.find("trial database " + path + ": cannot create the file: unable to open"),
            std::string::npos)
      << msg;
  fs::permissions(tmp.sub("ro"), fs::perms::owner_all);
}

}  // namespace
}  // namespace fusenas::nas
