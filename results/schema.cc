#include "results/schema.h"

#include <cstdint>
#include <optional>

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
constexpr const char* kTrialsTableV4 = R"sql(
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
// The current layout of `trials` since version 5; `{1}` is the list of statuses, which version 7
// extends. The version-4 layout above stays as it was, for step 4.
constexpr const char* kTrialsTableV5 = R"sql(
CREATE TABLE {0} (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  number INTEGER NOT NULL,
  params_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ({1})),
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
  state_path TEXT,
  state_epoch INTEGER,
  state_digest INTEGER,
  runs INTEGER NOT NULL DEFAULT 1,
  epochs_redone INTEGER NOT NULL DEFAULT 0,
  UNIQUE (sweep_id, number)
);
)sql";
constexpr const char* kStatusesV5 =
    "'pending', 'running', 'paused', 'finished', 'failed', 'pruned', 'interrupted'";
constexpr const char* kStatusesV7 =
    "'pending', 'running', 'paused', 'finished', 'failed', 'pruned', 'interrupted', 'infeasible'";
// Each trial's objective at the rungs of ASHA or Hyperband, and what became of it there.
constexpr const char* kRungsTable = R"sql(
CREATE TABLE trial_rungs (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  epoch INTEGER NOT NULL,
  value REAL NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('continued', 'stopped', 'paused', 'promoted')),
  PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;
)sql";
// Population Based Training: the params each member trains with from `epoch` + 1 on, and the
// member whose training state it loaded there (NULL: its own; epoch 0: its initial config).
constexpr const char* kLineageTable = R"sql(
CREATE TABLE trial_lineage (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  epoch INTEGER NOT NULL,
  parent_id INTEGER REFERENCES trials(id),
  params_json TEXT NOT NULL,
  PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;
)sql";
// Version 8: an earlier sweep's trials that seeded this sweep's sampler (spec warm_start), and
// configs a user enqueued for the sweep to run next (`fersweep run --enqueue`); `trial_id` is set
// once the coordinator has started the config as a trial.
constexpr const char* kKnownConfigTables = R"sql(
CREATE TABLE prior_trials (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  position INTEGER NOT NULL,
  source TEXT NOT NULL,
  params_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('finished', 'pruned', 'infeasible')),
  objectives_json TEXT NOT NULL,
  epochs INTEGER NOT NULL,
  violation REAL NOT NULL,
  PRIMARY KEY (sweep_id, position)
) WITHOUT ROWID;
CREATE TABLE enqueued_configs (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  params_json TEXT NOT NULL,
  trial_id INTEGER REFERENCES trials(id),
  enqueued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX enqueued_by_sweep ON enqueued_configs (sweep_id, trial_id);
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

int64_t query_int(const sql::Database& db, const std::string& sql) {
  sql::Statement statement(db, sql);
  statement.step();
  return statement.integer(0);
}

// One schema upgrade: from version `to - 1` to `to`. Steps run in order, all in one transaction.
// A new database is the version-4 layout (frozen: step 4 rebuilds `trials` with it) plus
// every later step.
struct UpgradeStep {
  int to;
  void (*apply)(sql::Database& db);
};
constexpr int kBaseVersion = 4;

constexpr UpgradeStep kUpgrades[] = {
    // Version 2: every epoch metric a row of epoch_metrics, so that benchmark functions and
    // future trainers can record their own; version 1 had five fixed columns in `epochs`.
    {2,
     [](sql::Database& db) {
       db.execute("ALTER TABLE epochs RENAME TO epochs_v1");
       db.execute(kEpochTables);
       db.execute(kMoveVersion1Epochs);
     }},
    // Version 3 records where each trial's best model was saved.
    {3, [](sql::Database& db) { db.execute("ALTER TABLE trials ADD COLUMN checkpoint TEXT"); }},
    // Version 4 lets a trial be `interrupted` (its sweep stopped while it ran; --resume re-runs
    // it). A CHECK constraint cannot be altered in SQLite, so the table is rebuilt beside the old
    // one; foreign keys are not enforced yet on this connection, so the other tables' references
    // to `trials` simply hold on to the new table.
    {4,
     [](sql::Database& db) {
       db.execute(fmt::format(kTrialsTableV4, "trials_v4"));
       db.execute(fmt::format("INSERT INTO trials_v4 ({0}) SELECT {0} FROM trials", kTrialColumns));
       db.execute("DROP TABLE trials");
       db.execute("ALTER TABLE trials_v4 RENAME TO trials");
       db.execute(kTrialsIndex);
     }},
    // Version 5 records each trial's training state (the file, its epoch and digest), so that an
    // interrupted trial continues from its last epoch, how often it ran and how many epochs it
    // trained twice; lets a trial be `paused` (its state kept, its worker freed); keeps the rung
    // history, and when each epoch was stored (the sweep's timeline, e.g. epochs spent until a
    // result). `trials` is rebuilt as in version 4, for the CHECK constraint.
    {5,
     [](sql::Database& db) {
       db.execute(fmt::format(kTrialsTableV5, "trials_v5", kStatusesV5));
       db.execute(fmt::format("INSERT INTO trials_v5 ({0}) SELECT {0} FROM trials", kTrialColumns));
       db.execute("DROP TABLE trials");
       db.execute("ALTER TABLE trials_v5 RENAME TO trials");
       db.execute(kTrialsIndex);
       db.execute(kRungsTable);
       db.execute("ALTER TABLE epochs ADD COLUMN recorded_at REAL");
     }},
    // Version 6 keeps Population Based Training's lineage and hyperparameter schedules, and
    // indexes final metrics by value: a leaderboard's first rows (`results rank`, the
    // dashboard's best trial) come from the index instead of a sort of the whole sweep.
    {6,
     [](sql::Database& db) {
       db.execute(kLineageTable);
       db.execute("CREATE INDEX trial_metrics_by_value ON trial_metrics (name, value)");
     }},
    // Version 7 lets a trial be `infeasible`: it broke one of the sweep's constraints, before
    // training (never trained) or after it. `trials` is rebuilt as in version 5, same columns.
    {7,
     [](sql::Database& db) {
       db.execute(fmt::format(kTrialsTableV5, "trials_v7", kStatusesV7));
       db.execute("INSERT INTO trials_v7 SELECT * FROM trials");
       db.execute("DROP TABLE trials");
       db.execute("ALTER TABLE trials_v7 RENAME TO trials");
       db.execute(kTrialsIndex);
     }},
    // Version 8 keeps warm-start evidence and configs enqueued into a sweep.
    {8, [](sql::Database& db) { db.execute(kKnownConfigTables); }},
};
static_assert(std::size(kUpgrades) == kSchemaVersion - 1, "one upgrade step per version");

// One transaction: a failed upgrade leaves the old file exactly as it was. Version 0: a new file.
void build_schema(sql::Database& db, int64_t version) {
  sql::Transaction transaction(db);
  if (version == 0) {
    db.execute(kSweepTables);
    db.execute(fmt::format(kTrialsTableV4, "trials"));
    db.execute(kTrialsIndex);
    db.execute(kEpochTables);
    version = kBaseVersion;
  }
  for (const UpgradeStep& step : kUpgrades) {
    if (step.to > version) step.apply(db);
  }
  db.execute(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  transaction.commit();
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
  if (read_only) {
    if (version == 0) throw fail("an empty file, not a fersweep database");
    if (version < kSchemaVersion) {
      throw fail(fmt::format(
          "schema version {} is older than {}; `fersweep results --db {} upgrade` upgrades it in "
          "place (so does the next `fersweep run` on it)",
          version, kSchemaVersion, path));
    }
    return std::move(*db);
  }
  // Readers never block the writer, whichever fersweep created the file. NORMAL in WAL mode: a
  // commit survives a process crash; only an OS crash or power loss can roll back the last
  // transactions, never corrupt the file.
  db->execute("PRAGMA journal_mode = WAL");
  if (version < kSchemaVersion) build_schema(*db, version);
  db->execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  return std::move(*db);
}

}  // namespace fersweep::results
