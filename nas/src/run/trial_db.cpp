// TrialDb on the sqlite3 C API: the RAII wrappers, the schema, its identification and every
// trial state change as one transaction.
#include "fusenas/nas/run/trial_db.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <map>

#include "fusenas/engine/error.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;

// 'FNAS' in the database header, so a foreign SQLite file is told apart before reading a table.
constexpr int32_t kApplicationId = 0x464E4153;
constexpr const char* kFormat = "fusenas-trials";
// Several processes (workers, nas_report) may share the file; a writer waits this long for
// another's transaction instead of failing at once.
constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE trials(
  id INTEGER PRIMARY KEY,
  candidate TEXT NOT NULL,
  encoding TEXT NOT NULL,
  hyperparameters TEXT NOT NULL,
  fidelity TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'pruned')),
  attempts INTEGER NOT NULL DEFAULT 0,
  pid INTEGER,
  started_at REAL,
  metrics TEXT,
  score REAL,
  params INTEGER,
  wall_seconds REAL,
  error TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  finished_at REAL);
CREATE TABLE epochs(
  trial INTEGER NOT NULL REFERENCES trials(id),
  epoch INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  PRIMARY KEY (trial, epoch)) WITHOUT ROWID;
)sql";

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

[[noreturn]] void sqlite_fail(const std::string& path, sqlite3* db, const std::string& what) {
  FUSENAS_FAIL("trial database {}: {}: {}", path, what, db ? sqlite3_errmsg(db) : "out of memory");
}

// One prepared statement, finalized on every path out.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      sqlite_fail(path_, db_, std::string("cannot prepare '") + sql + "'");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v) { return check_bind(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check_bind(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check_bind(
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : check_bind(sqlite3_bind_null(stmt_, i));
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite_fail(path_, db_, std::string("cannot run '") + sqlite3_sql(stmt_) + "'");
  }
  void run() {
    while (step()) {
    }
  }

  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : "";
  }
  std::optional<int64_t> opt_int64(int c) const {
    return is_null(c) ? std::nullopt : std::optional(int64(c));
  }
  std::optional<double> opt_real(int c) const {
    return is_null(c) ? std::nullopt : std::optional(real(c));
  }

 private:
  Statement& check_bind(int rc) {
    if (rc != SQLITE_OK) sqlite_fail(path_, db_, "cannot bind a value");
    return *this;
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    FUSENAS_FAIL("trial database {}: {}", path, msg);
  }
}

// A transaction rolled back unless committed. IMMEDIATE takes the write lock at the start, so a
// state check and the update after it see no other writer in between.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path, bool write) : db_(db), path_(path) {
    exec(db_, path_, write ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  ~Transaction() {
    // SQLite rolls back by itself after some errors (a full disk, I/O); roll back only what is
    // open.
    if (!committed_ && !sqlite3_get_autocommit(db_))
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec(db_, path_, "COMMIT");
    committed_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool committed_ = false;
};

TrialStatus status_from(const std::string& s, const std::string& path) {
  for (TrialStatus t : {TrialStatus::kPending, TrialStatus::kRunning, TrialStatus::kDone,
                        TrialStatus::kFailed, TrialStatus::kPruned}) {
    if (s == to_string(t)) return t;
  }
  FUSENAS_FAIL("trial database {}: unknown trial status '{}'", path, s);
}

nlohmann::json parse_json(const std::string& text, const std::string& path, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("trial database {}: {} is not JSON: {}", path, what, e.what());
  }
}

std::string encoding_json(const std::vector<float>& v) {
  nlohmann::json a = nlohmann::json::array();
  // A float widened to double prints its shortest round-trip form, so reading back is exact.
  for (float f : v) a.push_back(static_cast<double>(f));
  return a.dump();
}

std::vector<float> encoding_from(const nlohmann::json& j, const std::string& path) {
  FUSENAS_CHECK(j.is_array(), "trial database {}: an encoding is not a JSON array", path);
  std::vector<float> out;
  for (const auto& x : j) {
    FUSENAS_CHECK(x.is_number(), "trial database {}: an encoding holds a non-number", path);
    out.push_back(static_cast<float>(x.get<double>()));
  }
  return out;
}

bool process_alive(int64_t pid) {
  if (pid <= 0) return false;
  // EPERM: the pid exists but belongs to another user; count it as alive.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string parent_folder(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

const char* to_string(TrialStatus s) {
  switch (s) {
    case TrialStatus::kPending:
      return "pending";
    case TrialStatus::kRunning:
      return "running";
    case TrialStatus::kDone:
      return "done";
    case TrialStatus::kFailed:
      return "failed";
    case TrialStatus::kPruned:
      return "pruned";
  }
  return "?";
}

struct TrialDb::Impl {
  DbHandle db;
  std::string path;

  sqlite3* raw() const { return db.get(); }
  Statement statement(const char* sql) const { return Statement(raw(), path, sql); }
  Transaction transaction(bool write) const { return Transaction(raw(), path, write); }

  // Opens the file without reading it (SQLite reads lazily).
  static std::unique_ptr<Impl> connect(const std::string& path, bool create) {
    const std::string folder = parent_folder(path);
    FUSENAS_CHECK(fs::is_directory(folder), "cannot {} trial database {}: folder {} does not exist",
                  create ? "create" : "open", path, folder);
    FUSENAS_CHECK(create || fs::exists(path), "cannot open trial database {}: no such file", path);
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    auto impl = std::make_unique<Impl>(Impl{DbHandle(db), path});
    if (rc != SQLITE_OK)
      sqlite_fail(path, db, create ? "cannot create the file" : "cannot open the file");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    return impl;
  }

  // Reads the header fields; fails for a file that is no SQLite database.
  std::pair<int64_t, int64_t> application_id_and_version() const {
    auto pragma = [&](const char* sql) {
      sqlite3_stmt* s = nullptr;
      int rc = sqlite3_prepare_v2(raw(), sql, -1, &s, nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_step(s);
      const int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
      const int code = sqlite3_errcode(raw());
      const std::string msg = sqlite3_errmsg(raw());
      sqlite3_finalize(s);
      if (rc == SQLITE_ROW) return v;
      // Only this code means "some other file"; a lock or an I/O error is reported as such.
      FUSENAS_CHECK(code != SQLITE_NOTADB, "{} is not a FuseNAS trial database ({})", path, msg);
      FUSENAS_FAIL("trial database {}: cannot read its header: {}", path, msg);
    };
    return {pragma("PRAGMA application_id"), pragma("PRAGMA user_version")};
  }

  int64_t table_count() const {
    Statement s = statement("SELECT count(*) FROM sqlite_master");
    s.step();
    return s.int64(0);
  }

  // Rollback journal (not WAL): the database is always one self-contained file, so a copy of the
  // run folder, a read-only folder or a network file system reads it whole; WAL would keep recent
  // commits in trials.sqlite-wal and need a writable -shm beside it to read at all. FULL syncs
  // the journal before the database is changed and the database before the journal goes, so a
  // kill or power loss at any moment rolls back to the last commit. (Power lost in the instant
  // after a commit, before the journal's deletion reaches the disk, rolls that one commit back;
  // EXTRA would sync the folder too. Either way the trials stay consistent.) A trial commits a few
  // times per epoch, so the extra fsyncs cost nothing that shows.
  void configure() const {
    Statement mode = statement("PRAGMA journal_mode=DELETE");
    mode.run();
    exec(raw(), path, "PRAGMA synchronous=FULL");
    exec(raw(), path, "PRAGMA foreign_keys=ON");
  }

  // Refuses anything but a FuseNAS trial database of this schema version.
  void check_identity_header() const {
    const auto [app, version] = application_id_and_version();
    if (app != kApplicationId) {
      const bool empty = table_count() == 0;
      FUSENAS_FAIL("{} is not a FuseNAS trial database ({})", path,
                   empty ? "an empty SQLite database" : "a SQLite database of another program");
    }
    FUSENAS_CHECK(version <= kSchemaVersion,
                  "{} was written by a newer FuseNAS: trial database schema version {}, this "
                  "build reads version {}",
                  path, version, kSchemaVersion);
    FUSENAS_CHECK(
        version == kSchemaVersion,
        "{} has an unknown trial database schema version {} (this build reads version {})", path,
        version, kSchemaVersion);
  }

  SearchIdentity read_identity() const {
    std::map<std::string, std::string> meta;
    Statement s = statement("SELECT key, value FROM meta");
    while (s.step()) meta[s.text(0)] = s.text(1);
    auto get = [&](const char* key) {
      const auto it = meta.find(key);
      FUSENAS_CHECK(it != meta.end(), "trial database {}: meta holds no '{}'", path, key);
      return it->second;
    };
    FUSENAS_CHECK(get("format") == kFormat, "{} is not a FuseNAS trial database (format '{}')",
                  path, get("format"));
    SearchIdentity id;
    id.strategy = get("strategy");
    id.space = get("space");
    const std::string seed = get("seed");
    try {
      size_t used = 0;
      id.seed = std::stoull(seed, &used);
      FUSENAS_CHECK(used == seed.size(), "trailing text");
    } catch (const std::exception&) {
      FUSENAS_FAIL("trial database {}: meta 'seed' is not an unsigned integer: '{}'", path, seed);
    }
    id.config = parse_json(get("config"), path, "meta 'config'");
    return id;
  }

  void write_schema(const SearchIdentity& id) const {
    Transaction tx = transaction(true);
    // Checked again under the write lock: another process may have created it meanwhile.
    FUSENAS_CHECK(table_count() == 0, "cannot create trial database {}: it already holds tables",
                  path);
    exec(raw(), path, fmt::format("PRAGMA application_id={}", kApplicationId).c_str());
    exec(raw(), path, fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
    exec(raw(), path, kSchema);
    const std::pair<const char*, std::string> rows[] = {
        {"format", kFormat},
        {"schema_version", std::to_string(kSchemaVersion)},
        {"strategy", id.strategy},
        {"space", id.space},
        {"seed", std::to_string(id.seed)},
        {"config", id.config.dump()},
        {"created_at", fmt::format("{:.3f}", now_seconds())}};
    for (const auto& [key, value] : rows) {
      statement("INSERT INTO meta(key, value) VALUES (?, ?)")
          .bind(1, std::string(key))
          .bind(2, value)
          .run();
    }
    tx.commit();
  }

  // Checks that trial `id` exists and is in one of `from`, under the transaction the caller holds.
  void require(int64_t id, const char* verb, std::initializer_list<TrialStatus> from) const {
    Statement s = statement("SELECT status FROM trials WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
      Statement n = statement("SELECT count(*) FROM trials");
      n.step();
      FUSENAS_FAIL("trial database {}: cannot {} trial {}: no such trial (the database holds {})",
                   path, verb, id, n.int64(0));
    }
    const TrialStatus now = status_from(s.text(0), path);
    if (std::find(from.begin(), from.end(), now) != from.end()) return;
    std::string allowed;
    for (TrialStatus t : from)
      allowed += (allowed.empty() ? "" : " or ") + std::string(to_string(t));
    FUSENAS_FAIL("trial database {}: cannot {} trial {}: it is {} (only a {} trial can)", path,
                 verb, id, to_string(now), allowed);
  }
};

TrialDb::TrialDb(std::unique_ptr<Impl> impl, std::string path, SearchIdentity identity)
    : impl_(std::move(impl)), path_(std::move(path)), identity_(std::move(identity)) {}
TrialDb::TrialDb(TrialDb&&) noexcept = default;
TrialDb& TrialDb::operator=(TrialDb&&) noexcept = default;
TrialDb::~TrialDb() = default;

TrialDb TrialDb::create(const std::string& path, const SearchIdentity& identity) {
  auto impl = Impl::connect(path, true);
  const auto [app, version] = impl->application_id_and_version();
  if (app == kApplicationId) {
    FUSENAS_FAIL("cannot create trial database {}: it already holds one (open it to resume)", path);
  }
  // An empty database is what a creation killed before its commit leaves: take it over.
  FUSENAS_CHECK(impl->table_count() == 0 && version == 0,
                "cannot create trial database {}: it is a SQLite database of another program",
                path);
  impl->configure();
  impl->write_schema(identity);
  return TrialDb(std::move(impl), path, identity);
}

TrialDb TrialDb::open(const std::string& path) {
  auto impl = Impl::connect(path, false);
  impl->check_identity_header();
  impl->configure();
  SearchIdentity id = impl->read_identity();
  return TrialDb(std::move(impl), path, std::move(id));
}

TrialDb TrialDb::open_or_create(
    const std::string& path, const SearchIdentity& identity,
    const std::function<nlohmann::json(const nlohmann::json&)>& normalize_config) {
  if (!fs::exists(path)) return create(path, identity);
  TrialDb db = open(path);
  const SearchIdentity& had = db.identity();
  auto differs = [&](const char* field, const std::string& there, const std::string& here) {
    FUSENAS_CHECK(there == here,
                  "trial database {} belongs to another search: {} is {} there and {} here", path,
                  field, there, here);
  };
  differs("strategy", had.strategy, identity.strategy);
  differs("space", had.space, identity.space);
  differs("seed", std::to_string(had.seed), std::to_string(identity.seed));
  differs("config", (normalize_config ? normalize_config(had.config) : had.config).dump(),
          identity.config.dump());
  return db;
}

int64_t TrialDb::add(const NewTrial& t) {
  for (float f : t.encoding) {
    FUSENAS_CHECK(std::isfinite(f), "trial database {}: an encoding holds {}", path_, f);
  }
  const double now = now_seconds();
  Transaction tx = impl_->transaction(true);
  impl_
      ->statement(
          "INSERT INTO trials(candidate, encoding, hyperparameters, fidelity, status, params, "
          "created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)")
      .bind(1, t.candidate.dump())
      .bind(2, encoding_json(t.encoding))
      .bind(3, t.hyperparameters.dump())
      .bind(4, t.fidelity.dump())
      .bind(5, t.params)
      .bind(6, now)
      .bind(7, now)
      .run();
  const int64_t id = sqlite3_last_insert_rowid(impl_->raw());
  tx.commit();
  return id;
}

void TrialDb::start(int64_t id, std::optional<int64_t> pid) {
  const double now = now_seconds();
  Transaction tx = impl_->transaction(true);
  impl_->require(id, "start", {TrialStatus::kPending});
  impl_
      ->statement(
          "UPDATE trials SET status = 'running', attempts = attempts + 1, pid = ?, started_at = ?, "
          "updated_at = ? WHERE id = ?")
      .bind(1, pid.value_or(static_cast<int64_t>(::getpid())))
      .bind(2, now)
      .bind(3, now)
      .bind(4, id)
      .run();
  tx.commit();
}

int64_t TrialDb::append_epoch(int64_t id, const nlohmann::json& m) {
  Transaction tx = impl_->transaction(true);
  impl_->require(id, "append an epoch to", {TrialStatus::kRunning});
  Statement n = impl_->statement("SELECT count(*) FROM epochs WHERE trial = ?");
  n.bind(1, id).step();
  const int64_t epoch = n.int64(0) + 1;
  impl_->statement("INSERT INTO epochs(trial, epoch, metrics) VALUES (?, ?, ?)")
      .bind(1, id)
      .bind(2, epoch)
      .bind(3, m.dump())
      .run();
  impl_->statement("UPDATE trials SET updated_at = ? WHERE id = ?")
      .bind(1, now_seconds())
      .bind(2, id)
      .run();
  tx.commit();
  return epoch;
}

void TrialDb::finish(int64_t id, const TrialResult& r) {
  FUSENAS_CHECK(std::isfinite(r.score),
                "trial database {}: trial {} cannot finish with score {} (fail it instead)", path_,
                id, r.score);
  FUSENAS_CHECK(r.metrics.is_object() || r.metrics.is_null(),
                "trial database {}: trial {}'s metrics are not a JSON object", path_, id);
  nlohmann::json metrics = r.metrics.is_null() ? nlohmann::json::object() : r.metrics;
  metrics["score"] = r.score;
  const double now = now_seconds();
  Transaction tx = impl_->transaction(true);
  impl_->require(id, "finish", {TrialStatus::kRunning});
  impl_
      ->statement(
          "UPDATE trials SET status = 'done', metrics = ?, score = ?, params = coalesce(?, "
          "params), "
          "wall_seconds = coalesce(?, ? - started_at), finished_at = ?, updated_at = ? "
          "WHERE id = ?")
      .bind(1, metrics.dump())
      .bind(2, r.score)
      .bind(3, r.params)
      .bind(4, r.wall_seconds)
      .bind(5, now)
      .bind(6, now)
      .bind(7, now)
      .bind(8, id)
      .run();
  tx.commit();
}

void TrialDb::fail(int64_t id, const std::string& reason, std::optional<double> wall_seconds) {
  FUSENAS_CHECK(!reason.empty(), "trial database {}: trial {} failed without a reason", path_, id);
  const double now = now_seconds();
  Transaction tx = impl_->transaction(true);
  impl_->require(id, "fail", {TrialStatus::kRunning});
  impl_
      ->statement(
          "UPDATE trials SET status = 'failed', error = ?, wall_seconds = coalesce(?, ? - "
          "started_at), finished_at = ?, updated_at = ? WHERE id = ?")
      .bind(1, reason)
      .bind(2, wall_seconds)
      .bind(3, now)
      .bind(4, now)
      .bind(5, now)
      .bind(6, id)
      .run();
  tx.commit();
}

void TrialDb::prune(int64_t id, const std::string& reason, const nlohmann::json& metrics,
                    std::optional<double> wall_seconds) {
  FUSENAS_CHECK(metrics.is_object() || metrics.is_null(),
                "trial database {}: trial {}'s metrics are not a JSON object", path_, id);
  const double now = now_seconds();
  Transaction tx = impl_->transaction(true);
  impl_->require(id, "prune", {TrialStatus::kPending, TrialStatus::kRunning});
  impl_
      ->statement(
          "UPDATE trials SET status = 'pruned', error = ?, metrics = ?, "
          "wall_seconds = coalesce(?, ? - started_at), finished_at = ?, updated_at = ? "
          "WHERE id = ?")
      .bind(1, reason)
      .bind(2, metrics.is_null() ? std::optional<std::string>() : metrics.dump())
      .bind(3, wall_seconds)
      .bind(4, now)
      .bind(5, now)
      .bind(6, now)
      .bind(7, id)
      .run();
  tx.commit();
}

int64_t TrialDb::requeue_running(Requeue which) {
  Transaction tx = impl_->transaction(true);
  std::vector<int64_t> ids;
  {
    Statement s = impl_->statement("SELECT id, pid FROM trials WHERE status = 'running'");
    while (s.step()) {
      if (which == Requeue::kAll || s.is_null(1) || !process_alive(s.int64(1)))
        ids.push_back(s.int64(0));
    }
  }
  const double now = now_seconds();
  for (int64_t id : ids) {
    impl_->statement("DELETE FROM epochs WHERE trial = ?").bind(1, id).run();
    impl_
        ->statement(
            "UPDATE trials SET status = 'pending', pid = NULL, started_at = NULL, updated_at = ? "
            "WHERE id = ?")
        .bind(1, now)
        .bind(2, id)
        .run();
  }
  tx.commit();
  return static_cast<int64_t>(ids.size());
}

std::vector<Trial> TrialDb::trials() const {
  Transaction tx = impl_->transaction(false);  // one snapshot of trials and epochs
  std::vector<Trial> out;
  std::map<int64_t, size_t> index;
  const std::string& p = path_;
  Statement s = impl_->statement(
      "SELECT id, candidate, encoding, hyperparameters, fidelity, status, attempts, pid, "
      "started_at, metrics, score, params, wall_seconds, error, created_at, updated_at, "
      "finished_at FROM trials ORDER BY id");
  while (s.step()) {
    Trial t;
    t.id = s.int64(0);
    t.candidate = parse_json(s.text(1), p, "a candidate");
    t.encoding = encoding_from(parse_json(s.text(2), p, "an encoding"), p);
    t.hyperparameters = parse_json(s.text(3), p, "hyperparameters");
    t.fidelity = parse_json(s.text(4), p, "a fidelity");
    t.status = status_from(s.text(5), p);
    t.attempts = s.int64(6);
    t.pid = s.opt_int64(7);
    t.started = s.opt_real(8);
    if (!s.is_null(9)) t.metrics = parse_json(s.text(9), p, "metrics");
    t.score = s.opt_real(10);
    t.params = s.opt_int64(11);
    t.wall_seconds = s.opt_real(12);
    t.error = s.text(13);
    t.created = s.real(14);
    t.updated = s.real(15);
    t.finished = s.opt_real(16);
    index[t.id] = out.size();
    out.push_back(std::move(t));
  }
  Statement e = impl_->statement("SELECT trial, metrics FROM epochs ORDER BY trial, epoch");
  while (e.step()) {
    const auto it = index.find(e.int64(0));
    if (it != index.end())
      out[it->second].curve.push_back(parse_json(e.text(1), p, "an epoch's metrics"));
  }
  tx.commit();
  return out;
}

Trial TrialDb::trial(int64_t id) const {
  // Reading all keeps one parsing path; a search holds hundreds of trials, not millions.
  for (Trial& t : trials()) {
    if (t.id == id) return std::move(t);
  }
  FUSENAS_FAIL("trial database {}: no trial {}", path_, id);
}

int64_t TrialDb::count(std::optional<TrialStatus> status) const {
  Statement s = impl_->statement(status ? "SELECT count(*) FROM trials WHERE status = ?"
                                        : "SELECT count(*) FROM trials");
  if (status) s.bind(1, std::string(to_string(*status)));
  s.step();
  return s.int64(0);
}

}  // namespace fusenas::nas
