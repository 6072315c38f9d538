#include "results/store.h"

#include <chrono>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::results {
namespace {

constexpr const char* kSweepTables = R"sql(
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  method TEXT NOT NULL,
  metric TEXT NOT NULL,
  goal TEXT NOT NULL CHECK (goal IN ('maximize', 'minimize')),
  seed INTEGER NOT NULL,
  planned_trials INTEGER NOT NULL,
  spec_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  finished_at TEXT
);
CREATE TABLE trial_metrics (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
CREATE TABLE class_reports (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  class_index INTEGER NOT NULL,
  name TEXT NOT NULL,
  precision REAL NOT NULL, recall REAL NOT NULL, f1 REAL NOT NULL, support INTEGER NOT NULL,
  PRIMARY KEY (trial_id, class_index)
) WITHOUT ROWID;
CREATE TABLE confusion (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  actual INTEGER NOT NULL,
  predicted INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (trial_id, actual, predicted)
) WITHOUT ROWID;
)sql";

// `{}` is the table's name, so that an upgrade can build the new table beside the old one.
constexpr const char* kTrialsTable = R"sql(
CREATE TABLE {} (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  number INTEGER NOT NULL,
  params_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'failed', 'pruned',
                                            'interrupted')),
  worker_rank INTEGER,
  started_at REAL,
  finished_at REAL,
  epochs_completed INTEGER NOT NULL DEFAULT 0,
  objective REAL,
  wall_seconds REAL,
  images_per_second REAL,
  param_count INTEGER,
  error TEXT,
  checkpoint TEXT,
  UNIQUE (sweep_id, number)
);
)sql";
constexpr const char* kTrialsIndex = "CREATE INDEX trials_by_sweep ON trials (sweep_id, status)";
constexpr const char* kTrialColumns =
    "id, sweep_id, number, params_json, seed, status, worker_rank, started_at, finished_at, "
    "epochs_completed, objective, wall_seconds, images_per_second, param_count, error, checkpoint";

constexpr const char* kEpochTables = R"sql(
CREATE TABLE epochs (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  epoch INTEGER NOT NULL,
  seconds REAL,
  PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;
CREATE TABLE epoch_metrics (
  trial_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, epoch, name),
  FOREIGN KEY (trial_id, epoch) REFERENCES epochs(trial_id, epoch)
) WITHOUT ROWID;
)sql";

// Version 1 kept five fixed metric columns in `epochs`; version 2 moves every epoch metric to
// `epoch_metrics` rows so that benchmark functions and future trainers can record their own.
constexpr const char* kMoveVersion1Epochs = R"sql(
INSERT INTO epochs SELECT trial_id, epoch, seconds FROM epochs_v1;
INSERT INTO epoch_metrics SELECT trial_id, epoch, 'train_loss', train_loss FROM epochs_v1
  WHERE train_loss IS NOT NULL;
INSERT INTO epoch_metrics SELECT trial_id, epoch, 'train_accuracy', train_accuracy FROM epochs_v1
  WHERE train_accuracy IS NOT NULL;
INSERT INTO epoch_metrics SELECT trial_id, epoch, 'val_loss', val_loss FROM epochs_v1
  WHERE val_loss IS NOT NULL;
INSERT INTO epoch_metrics SELECT trial_id, epoch, 'val_accuracy', val_accuracy FROM epochs_v1
  WHERE val_accuracy IS NOT NULL;
INSERT INTO epoch_metrics SELECT trial_id, epoch, 'val_macro_f1', val_macro_f1 FROM epochs_v1
  WHERE val_macro_f1 IS NOT NULL;
DROP TABLE epochs_v1;
)sql";

double unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

int64_t query_int(const sql::Database& db, const std::string& sql) {
  sql::Statement statement(db, sql);
  statement.step();
  return statement.integer(0);
}

}  // namespace

sql::Database open_database(const std::string& path, bool read_only) {
  auto fail = [&](const std::string& why) -> InputError {
    return InputError(fmt::format("{}: {}", path, why));
  };
  std::optional<sql::Database> db;
  try {
    db.emplace(path, read_only);
  } catch (const sql::SqliteError& e) {
    if (e.cannot_open()) throw fail(read_only ? "no such database" : "cannot create database");
    throw;
  }
  int64_t version = 0, tables = 0;
  try {
    version = query_int(*db, "PRAGMA user_version");
    tables = query_int(*db, "SELECT count(*) FROM sqlite_schema");
  } catch (const sql::SqliteError& e) {
    if (e.not_a_database()) throw fail("not a SQLite database");
    throw;
  }
  if (version > kSchemaVersion) {
    throw fail(fmt::format("schema version {} is newer than this fersweep understands ({})",
                           version, kSchemaVersion));
  }
  if (version == 0 && tables > 0) throw fail("a SQLite database, but not a fersweep one");
  if (version != 0 && version < kSchemaVersion) {
    if (read_only) {
      throw fail(fmt::format(
          "schema version {} is older than {}; `fersweep results --db {} upgrade` upgrades it in "
          "place (so does the next `fersweep run` on it)",
          version, kSchemaVersion, path));
    }
    // One transaction: a failed upgrade leaves the old file exactly as it was.
    sql::Transaction transaction(*db);
    if (version == 1) {
      db->execute("ALTER TABLE epochs RENAME TO epochs_v1");
      db->execute(kEpochTables);
      db->execute(kMoveVersion1Epochs);
    }
    // Version 3 records where each trial's best model was saved.
    if (version < 3) db->execute("ALTER TABLE trials ADD COLUMN checkpoint TEXT");
    // Version 4 lets a trial be `interrupted` (its sweep stopped while it ran; --resume re-runs
    // it). A CHECK constraint cannot be altered in SQLite, so the table is rebuilt beside the old
    // one; foreign keys are not enforced yet on this connection, so the other tables' references
    // to `trials` simply hold on to the new table.
    db->execute(fmt::format(kTrialsTable, "trials_v4"));
    db->execute(fmt::format("INSERT INTO trials_v4 ({0}) SELECT {0} FROM trials", kTrialColumns));
    db->execute("DROP TABLE trials");
    db->execute("ALTER TABLE trials_v4 RENAME TO trials");
    db->execute(kTrialsIndex);
    db->execute(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
    transaction.commit();
  }
  if (version == 0) {
    if (read_only) throw fail("an empty file, not a fersweep database");
    db->execute("PRAGMA journal_mode = WAL");
    sql::Transaction transaction(*db);
    db->execute(kSweepTables);
    db->execute(fmt::format(kTrialsTable, "trials"));
    db->execute(kTrialsIndex);
    db->execute(kEpochTables);
    db->execute(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
    transaction.commit();
  }
  if (!read_only) {
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash or power loss can
    // roll back the last transactions, never corrupt the file.
    db->execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  }
  return std::move(*db);
}

Store::Store(const std::string& path) : db_(open_database(path, false)) {}

int64_t Store::create_sweep(const NewSweep& s) {
  sql::Statement insert(db_,
                        "INSERT INTO sweeps (name, method, metric, goal, seed, planned_trials, "
                        "spec_json, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'running')");
  insert.bind(1, s.name)
      .bind(2, s.method)
      .bind(3, s.metric)
      .bind(4, std::string(s.maximize ? "maximize" : "minimize"))
      .bind(5, static_cast<int64_t>(s.seed))
      .bind(6, static_cast<int64_t>(s.planned_trials))
      .bind(7, s.spec.dump());
  insert.run();
  return db_.last_insert_id();
}

void Store::finish_sweep(int64_t sweep_id, const std::string& status) {
  sql::Statement update(db_,
                        "UPDATE sweeps SET status = ?, finished_at = "
                        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
  update.bind(1, status).bind(2, sweep_id).run();
}

int64_t Store::add_trial(int64_t sweep_id, int number, const nlohmann::json& params,
                         uint64_t seed) {
  sql::Statement insert(db_,
                        "INSERT INTO trials (sweep_id, number, params_json, seed, status) "
                        "VALUES (?, ?, ?, ?, 'pending')");
  insert.bind(1, sweep_id)
      .bind(2, number)
      .bind(3, params.dump())
      .bind(4, static_cast<int64_t>(seed));
  insert.run();
  return db_.last_insert_id();
}

void Store::start_trial(int64_t trial_id, int worker_rank) {
  sql::Statement update(db_,
                        "UPDATE trials SET status = 'running', worker_rank = ?, started_at = ? "
                        "WHERE id = ?");
  update.bind(1, worker_rank).bind(2, unix_seconds()).bind(3, trial_id).run();
}

void Store::record_epoch(const EpochMetrics& e) {
  sql::Transaction transaction(db_);
  sql::Statement insert(db_, "INSERT INTO epochs (trial_id, epoch, seconds) VALUES (?, ?, ?)");
  insert.bind(1, e.trial_id).bind(2, e.epoch).bind(3, e.seconds).run();
  sql::Statement metric(
      db_, "INSERT INTO epoch_metrics (trial_id, epoch, name, value) VALUES (?, ?, ?, ?)");
  for (const auto& [name, value] : e.values) {
    metric.bind(1, e.trial_id).bind(2, e.epoch).bind(3, name).bind(4, value).run();
    metric.reset();
  }
  sql::Statement progress(db_, "UPDATE trials SET epochs_completed = ? WHERE id = ?");
  progress.bind(1, e.epoch).bind(2, e.trial_id).run();
  transaction.commit();
}

void Store::finish_trial(const TrialResult& r, std::optional<double> objective) {
  const int k = static_cast<int>(r.class_names.size());
  if (!r.confusion.empty() && r.confusion.size() != static_cast<size_t>(k) * k) {
    throw std::invalid_argument(
        fmt::format("trial {}: confusion matrix has {} cells for {} classes", r.trial_id,
                    r.confusion.size(), k));
  }
  sql::Transaction transaction(db_);
  sql::Statement update(db_,
                        "UPDATE trials SET status = ?, finished_at = ?, epochs_completed = ?, "
                        "objective = ?, wall_seconds = ?, images_per_second = ?, param_count = ?, "
                        "error = ?, checkpoint = ? WHERE id = ?");
  update.bind(1, to_string(r.status))
      .bind(2, unix_seconds())
      .bind(3, r.epochs_completed)
      .bind(4, objective)
      .bind(5, r.wall_seconds)
      .bind(6, r.images_per_second)
      .bind(7, r.param_count);
  if (r.error.empty()) {
    update.bind(8, std::nullopt);
  } else {
    update.bind(8, r.error);
  }
  if (r.checkpoint.empty()) {
    update.bind(9, std::nullopt);
  } else {
    update.bind(9, r.checkpoint);
  }
  update.bind(10, r.trial_id).run();

  sql::Statement metric(db_, "INSERT INTO trial_metrics (trial_id, name, value) VALUES (?, ?, ?)");
  for (const auto& [name, value] : r.final_metrics) {
    metric.bind(1, r.trial_id).bind(2, name).bind(3, value).run();
    metric.reset();
  }
  sql::Statement report(
      db_,
      "INSERT INTO class_reports (trial_id, class_index, name, precision, recall, "
      "f1, support) VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (size_t c = 0; c < r.per_class.size(); ++c) {
    const ClassMetrics& m = r.per_class[c];
    report.bind(1, r.trial_id)
        .bind(2, static_cast<int64_t>(c))
        .bind(3, m.name)
        .bind(4, m.precision)
        .bind(5, m.recall)
        .bind(6, m.f1)
        .bind(7, m.support)
        .run();
    report.reset();
  }
  sql::Statement cell(
      db_, "INSERT INTO confusion (trial_id, actual, predicted, count) VALUES (?, ?, ?, ?)");
  for (int a = 0; a < k && !r.confusion.empty(); ++a) {
    for (int p = 0; p < k; ++p) {
      cell.bind(1, r.trial_id).bind(2, a).bind(3, p).bind(4, r.confusion[a * k + p]).run();
      cell.reset();
    }
  }
  transaction.commit();
}

std::optional<StoredSweep> Store::latest_sweep_named(const std::string& name) {
  sql::Statement select(
      db_, "SELECT id, status, spec_json FROM sweeps WHERE name = ? ORDER BY id DESC LIMIT 1");
  select.bind(1, name);
  if (!select.step()) return std::nullopt;
  return StoredSweep{select.integer(0), select.text(1), nlohmann::json::parse(select.text(2))};
}

std::vector<StoredTrial> Store::trials_of(int64_t sweep_id, const std::string& metric) {
  std::vector<StoredTrial> trials;
  sql::Statement select(db_,
                        "SELECT id, number, params_json, seed, status, objective, "
                        "epochs_completed FROM trials WHERE sweep_id = ? ORDER BY number");
  select.bind(1, sweep_id);
  while (select.step()) {
    StoredTrial t;
    t.id = select.integer(0);
    t.number = static_cast<int>(select.integer(1));
    t.params = nlohmann::json::parse(select.text(2));
    t.seed = static_cast<uint64_t>(select.integer(3));
    t.status = select.text(4);
    t.objective = select.optional_real(5);
    t.epochs_completed = select.is_null(6) ? 0 : static_cast<int>(select.integer(6));
    trials.push_back(std::move(t));
  }
  sql::Statement epochs(db_,
                        "SELECT epoch, value FROM epoch_metrics WHERE trial_id = ? AND name = ? "
                        "ORDER BY epoch");
  for (StoredTrial& t : trials) {
    epochs.bind(1, t.id).bind(2, metric);
    while (epochs.step()) {
      t.objective_by_epoch.emplace_back(static_cast<int>(epochs.integer(0)), epochs.real(1));
    }
    epochs.reset();
  }
  return trials;
}

void Store::mark_interrupted(int64_t trial_id, const std::string& why) {
  sql::Statement update(db_,
                        "UPDATE trials SET status = 'interrupted', error = ?, finished_at = ? "
                        "WHERE id = ?");
  update.bind(1, why).bind(2, unix_seconds()).bind(3, trial_id).run();
}

void Store::reopen_sweep(int64_t sweep_id) {
  sql::Statement update(db_,
                        "UPDATE sweeps SET status = 'running', finished_at = NULL WHERE id = ?");
  update.bind(1, sweep_id).run();
}

}  // namespace fersweep::results
