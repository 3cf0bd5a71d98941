// Run folders belong to one run: a second process (or a second run) cannot take a locked folder,
// default names never collide, a start that fails leaves nothing behind, and another app's folder
// is named as such on --resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "fusenas/engine/error.h"
#include "fusenas/nas/darts/search.h"
#include "fusenas/nas/run/new_run_dir.h"
#include "fusenas/nas/run/run_lock.h"
#include "fusenas/nas/train/trainer.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::message_of;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Runs `f` with the working directory set to `dir` (default run folders are relative).
template <typename F>
void in_dir(const std::string& dir, F&& f) {
  const fs::path old = fs::current_path();
  fs::current_path(dir);
  try {
    f();
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
}

TEST(RunLock, ASecondHolderIsRefusedWithThePidUntilTheFirstLetsGo) {
  TempDir tmp;
  fs::create_directories(tmp.sub("run"));
  {
    const RunLock first(tmp.sub("run"));
    const std::string msg = message_of([&] { RunLock second(tmp.sub("run")); });
    EXPECT_NE(msg.find("is in use by pid " + std::to_string(::getpid())), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(RunLock again(tmp.sub("run")));
}

TEST(NewRunDir, DefaultNamesStartedInTheSameSecondGetTheirOwnFolders) {
  TempDir tmp;
  fs::create_directories(tmp.sub("cwd"));
  in_dir(tmp.sub("cwd"), [] {
    std::set<std::string> paths;
    NewRunDir a("", "darts"), b("", "darts"), c("", "darts");
    for (const NewRunDir* d : {&a, &b, &c}) {
      EXPECT_TRUE(fs::is_directory(d->path()));
      EXPECT_EQ(d->path().rfind("runs/darts-", 0), 0u) << d->path();
      paths.insert(d->path());
    }
    EXPECT_EQ(paths.size(), 3u);
  });
}

TEST(NewRunDir, RefusesFoldersThatHoldARunOrAnythingElse) {
  TempDir tmp;
  fs::create_directories(tmp.sub("done"));
  write(tmp.sub("done/config.json"), "{}");
  write(tmp.sub("done/checkpoint.json"), "{}");
  EXPECT_NE(message_of([&] { NewRunDir d(tmp.sub("done"), "darts"); }).find("already holds a run"),
            std::string::npos);
  fs::create_directories(tmp.sub("half"));
  write(tmp.sub("half/config.json"), "{}");
  EXPECT_NE(message_of([&] {
              NewRunDir d(tmp.sub("half"), "darts");
            }).find("failed before its first checkpoint"),
            std::string::npos);
  fs::create_directories(tmp.sub("other"));
  write(tmp.sub("other/notes.txt"), "mine");
  EXPECT_NE(message_of([&] { NewRunDir d(tmp.sub("other"), "darts"); }).find("is not empty"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(tmp.sub("other/notes.txt")));
  {
    const RunLock held(tmp.sub("other"));  // a folder another run holds
    fs::remove(tmp.sub("other/notes.txt"));
    EXPECT_NE(message_of([&] { NewRunDir d(tmp.sub("other"), "darts"); }).find("is in use"),
              std::string::npos);
  }
}

TEST(NewRunDir, DiscardRemovesAFolderItMadeAndEmptiesOneItWasGiven) {
  TempDir tmp;
  {
    NewRunDir made(tmp.sub("made/deeper"), "train");
    write(made.path() + "/config.json", "{}");
    made.discard();
  }
  EXPECT_FALSE(fs::exists(tmp.sub("made/deeper")));
  fs::create_directories(tmp.sub("given"));
  {
    NewRunDir given(tmp.sub("given"), "train");
    write(given.path() + "/config.json", "{}");
    given.discard();
  }
  EXPECT_TRUE(fs::is_directory(tmp.sub("given")));
  EXPECT_TRUE(fs::is_empty(tmp.sub("given")));
}

TEST(RunFolders, AStartThatFailsLeavesNoFolderBehind) {
  TempDir tmp;
  TrainConfig c;
  c.data.dataset = "cifar10";
  c.data.data_dir = tmp.sub("no-data");
  const auto o = testing::quiet_options<TrainOptions>(tmp.sub("run"));
  EXPECT_NE(message_of([&] { train(c, o); }).find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.sub("run")));
}

TEST(RunFolders, ResumeNamesAnotherAppsFolderAndRefusesALockedOne) {
  TempDir tmp;
  fs::create_directories(tmp.sub("enas"));
  write(tmp.sub("enas/config.json"), R"({"baseline_decay": 0.99})");
  write(tmp.sub("enas/checkpoint.json"), R"({"format": "fusenas-enas", "version": 1})");
  const std::string msg =
      message_of([&] { darts_resume(tmp.sub("enas"), testing::quiet_options<DartsOptions>("")); });
  EXPECT_NE(msg.find("it is an nas_enas run"), std::string::npos) << msg;

  fs::create_directories(tmp.sub("darts"));
  write(tmp.sub("darts/config.json"), "{}");
  write(tmp.sub("darts/checkpoint.json"), R"({"format": "fusenas-darts", "version": 1})");
  const RunLock held(tmp.sub("darts"));  // as a second `--resume` of a running search sees it
  EXPECT_NE(message_of([&] {
              darts_resume(tmp.sub("darts"), testing::quiet_options<DartsOptions>(""));
            }).find("is in use by pid"),
            std::string::npos);
}

TEST(RunFolders, ResumeNamesTheConfigFileAndTheKeyOfABadValue) {
  TempDir tmp;
  fs::create_directories(tmp.sub("run"));
  write(tmp.sub("run/config.json"), R"({"epochs": "ten"})");
  write(tmp.sub("run/checkpoint.json"), R"({"format": "fusenas-darts", "version": 1})");
  const std::string msg =
      message_of([&] { darts_resume(tmp.sub("run"), testing::quiet_options<DartsOptions>("")); });
  EXPECT_NE(msg.find(tmp.sub("run") + "/config.json: search config: key 'epochs' is string"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace fusenas::nas
