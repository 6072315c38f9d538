#include "results/store.h"

#include <chrono>
#include <cstdint>
#include <filesystem>

#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep::results {
namespace {

double unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

Store::Store(const std::string& path)
    : db_(open_database(path, false)),
      insert_sweep_(db_,
                    "INSERT INTO sweeps (name, method, metric, goal, seed, planned_trials, "
                    "spec_json, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'running')"),
      finish_sweep_(db_,
                    "UPDATE sweeps SET status = ?, finished_at = "
                    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?"),
      reopen_sweep_(db_, "UPDATE sweeps SET status = 'running', finished_at = NULL WHERE id = ?"),
      latest_sweep_(db_,
                    "SELECT id, status, spec_json FROM sweeps WHERE name = ? "
                    "ORDER BY id DESC LIMIT 1"),
      insert_trial_(db_,
                    "INSERT INTO trials (sweep_id, number, params_json, seed, status) "
                    "VALUES (?, ?, ?, ?, 'pending')"),
      start_trial_(db_,
                   "UPDATE trials SET status = 'running', worker_rank = ?, started_at = ? "
                   "WHERE id = ?"),
      // A paused trial keeps its training state; one that ended has none (the worker removed it).
      finish_trial_(db_,
                    "UPDATE trials SET status = ?1, finished_at = ?2, epochs_completed = ?3, "
                    "objective = ?4, wall_seconds = ?5, images_per_second = ?6, param_count = ?7, "
                    "error = ?8, checkpoint = ?9, "
                    "state_path = CASE ?1 WHEN 'paused' THEN state_path END, "
                    "state_epoch = CASE ?1 WHEN 'paused' THEN state_epoch END, "
                    "state_digest = CASE ?1 WHEN 'paused' THEN state_digest END WHERE id = ?10"),
      interrupt_trial_(db_,
                       "UPDATE trials SET status = 'interrupted', error = ?, finished_at = ?, "
                       "epochs_redone = epochs_redone + ? WHERE id = ?"),
      trials_of_(db_,
                 "SELECT t.id, t.number, t.params_json, t.seed, t.status, t.objective, "
                 "t.epochs_completed, t.state_path, t.state_epoch, t.state_digest, "
                 "l.params_json, l.epoch FROM trials t "
                 "LEFT JOIN trial_lineage l ON l.trial_id = t.id AND l.epoch = (SELECT "
                 "max(epoch) FROM trial_lineage WHERE trial_id = t.id) "
                 "WHERE t.sweep_id = ? ORDER BY t.number"),
      insert_epoch_(
          db_, "INSERT INTO epochs (trial_id, epoch, seconds, recorded_at) VALUES (?, ?, ?, ?)"),
      insert_epoch_metric_(
          db_, "INSERT INTO epoch_metrics (trial_id, epoch, name, value) VALUES (?, ?, ?, ?)"),
      update_progress_(db_, "UPDATE trials SET epochs_completed = ? WHERE id = ?"),
      epoch_values_(db_,
                    "SELECT epoch, value FROM epoch_metrics WHERE trial_id = ? AND name = ? "
                    "ORDER BY epoch"),
      final_value_(db_, "SELECT value FROM trial_metrics WHERE trial_id = ? AND name = ?"),
      epoch_seconds_(db_,
                     "SELECT epoch, seconds FROM epochs WHERE trial_id = ? AND seconds IS NOT NULL "
                     "ORDER BY epoch"),
      record_state_(db_,
                    "UPDATE trials SET state_path = ?, state_epoch = ?, state_digest = ? "
                    "WHERE id = ?"),
      reopen_trial_(db_,
                    "UPDATE trials SET status = 'pending', error = NULL, finished_at = NULL, "
                    "runs = runs + 1, epochs_redone = epochs_redone + max(epochs_completed - ?1, "
                    "0), epochs_completed = ?1 WHERE id = ?2"),
      drop_epoch_metrics_(db_, "DELETE FROM epoch_metrics WHERE trial_id = ? AND epoch > ?"),
      drop_epochs_(db_, "DELETE FROM epochs WHERE trial_id = ? AND epoch > ?"),
      mark_paused_(db_, "UPDATE trials SET status = 'paused' WHERE id = ?"),
      end_paused_(db_,
                  "UPDATE trials SET status = 'pruned', state_path = NULL, state_epoch = NULL, "
                  "state_digest = NULL WHERE id = ? AND status = 'paused'"),
      drop_metrics_(db_, "DELETE FROM trial_metrics WHERE trial_id = ?"),
      drop_report_(db_, "DELETE FROM class_reports WHERE trial_id = ?"),
      drop_cells_(db_, "DELETE FROM confusion WHERE trial_id = ?"),
      record_rung_(db_,
                   "INSERT OR REPLACE INTO trial_rungs (trial_id, epoch, value, outcome) "
                   "VALUES (?, ?, ?, ?)"),
      set_rung_outcome_(db_, "UPDATE trial_rungs SET outcome = ? WHERE trial_id = ? AND epoch = ?"),
      drop_rungs_(db_, "DELETE FROM trial_rungs WHERE trial_id = ? AND epoch > ?"),
      insert_lineage_(db_,
                      "INSERT OR REPLACE INTO trial_lineage (trial_id, epoch, parent_id, "
                      "params_json) VALUES (?, ?, ?, ?)"),
      drop_lineage_(db_, "DELETE FROM trial_lineage WHERE trial_id = ? AND epoch > ?"),
      insert_metric_(db_, "INSERT INTO trial_metrics (trial_id, name, value) VALUES (?, ?, ?)"),
      insert_report_(db_,
                     "INSERT INTO class_reports (trial_id, class_index, name, precision, recall, "
                     "f1, support) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      insert_cell_(
          db_, "INSERT INTO confusion (trial_id, actual, predicted, count) VALUES (?, ?, ?, ?)"),
      insert_prior_(db_,
                    "INSERT INTO prior_trials (sweep_id, position, source, params_json, status, "
                    "objectives_json, epochs, violation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      priors_of_(db_,
                 "SELECT source, params_json, status, objectives_json, epochs, violation FROM "
                 "prior_trials WHERE sweep_id = ? ORDER BY position"),
      insert_queued_(db_, "INSERT INTO enqueued_configs (sweep_id, params_json) VALUES (?, ?)"),
      next_queued_(db_,
                   "SELECT id, params_json FROM enqueued_configs WHERE sweep_id = ? AND trial_id "
                   "IS NULL ORDER BY id LIMIT 1"),
      dequeue_(db_, "UPDATE enqueued_configs SET trial_id = ? WHERE id = ?"),
      from_queue_(db_,
                  "SELECT trial_id FROM enqueued_configs WHERE sweep_id = ? AND trial_id IS NOT "
                  "NULL ORDER BY trial_id") {}

void Store::add_prior_trials(int64_t sweep_id, const std::vector<PriorTrial>& trials) {
  sql::Transaction transaction(db_);
  for (size_t i = 0; i < trials.size(); ++i) {
    const PriorTrial& t = trials[i];
    insert_prior_.reset();
    insert_prior_.bind(1, sweep_id)
        .bind(2, static_cast<int64_t>(i))
        .bind(3, t.source)
        .bind(4, t.params.dump())
        .bind(5, to_string(t.status))
        .bind(6, nlohmann::json(t.objectives).dump())
        .bind(7, static_cast<int64_t>(t.epochs))
        .bind(8, t.violation)
        .run();
  }
  transaction.commit();
}

std::vector<PriorTrial> Store::prior_trials_of(int64_t sweep_id) {
  std::vector<PriorTrial> trials;
  priors_of_.reset();
  priors_of_.bind(1, sweep_id);
  while (priors_of_.step()) {
    PriorTrial t;
    t.source = priors_of_.text(0);
    const std::string where =
        fmt::format("{}: prior trial {} of sweep {}", db_.path(), t.source, sweep_id);
    t.params = parse_json(priors_of_.text(1), where + ": params_json");
    t.status = enum_from_name<TrialStatus>(priors_of_.text(2), where + ": status");
    const nlohmann::json objectives = parse_json(priors_of_.text(3), where + ": objectives_json");
    for (const nlohmann::json& v : objectives) t.objectives.push_back(expect_number(v, where));
    t.epochs = static_cast<int>(priors_of_.integer(4));
    t.violation = priors_of_.real(5);
    trials.push_back(std::move(t));
  }
  return trials;
}

void Store::enqueue(int64_t sweep_id, const std::vector<nlohmann::json>& configs) {
  sql::Transaction transaction(db_);
  for (const nlohmann::json& config : configs) {
    insert_queued_.reset();
    insert_queued_.bind(1, sweep_id).bind(2, config.dump()).run();
  }
  transaction.commit();
}

std::optional<QueuedConfig> Store::next_queued(int64_t sweep_id) {
  next_queued_.reset();
  next_queued_.bind(1, sweep_id);
  if (!next_queued_.step()) return std::nullopt;
  QueuedConfig queued;
  queued.id = next_queued_.integer(0);
  queued.params = parse_json(next_queued_.text(1),
                             fmt::format("{}: enqueued config {}", db_.path(), queued.id));
  return queued;
}

std::vector<int64_t> Store::trials_from_queue(int64_t sweep_id) {
  std::vector<int64_t> ids;
  from_queue_.reset();
  from_queue_.bind(1, sweep_id);
  while (from_queue_.step()) ids.push_back(from_queue_.integer(0));
  return ids;
}

int64_t Store::create_sweep(const NewSweep& s) {
  insert_sweep_.reset();
  insert_sweep_.bind(1, s.name)
      .bind(2, s.method)
      .bind(3, s.metric)
      .bind(4, std::string(s.maximize ? "maximize" : "minimize"))
      .bind(5, static_cast<int64_t>(s.seed))
      .bind(6, static_cast<int64_t>(s.planned_trials))
      .bind(7, s.spec.dump())
      .run();
  return db_.last_insert_id();
}

void Store::finish_sweep(int64_t sweep_id, SweepStatus status) {
  finish_sweep_.reset();
  finish_sweep_.bind(1, to_string(status)).bind(2, sweep_id).run();
}

void Store::reopen_sweep(int64_t sweep_id) {
  reopen_sweep_.reset();
  reopen_sweep_.bind(1, sweep_id).run();
}

int64_t Store::add_trial(int64_t sweep_id, int number, const nlohmann::json& params, uint64_t seed,
                         std::optional<int64_t> queued_id) {
  sql::Transaction transaction(db_);
  insert_trial_.reset();
  insert_trial_.bind(1, sweep_id)
      .bind(2, number)
      .bind(3, params.dump())
      .bind(4, static_cast<int64_t>(seed))
      .run();
  const int64_t trial_id = db_.last_insert_id();
  if (queued_id) {
    dequeue_.reset();
    dequeue_.bind(1, trial_id).bind(2, *queued_id).run();
  }
  transaction.commit();
  return trial_id;
}

void Store::start_trial(int64_t trial_id, int worker_rank) {
  start_trial_.reset();
  start_trial_.bind(1, worker_rank).bind(2, unix_seconds()).bind(3, trial_id).run();
}

void Store::record_epoch(const EpochMetrics& e) {
  sql::Transaction transaction(db_);
  insert_epoch_.reset();
  insert_epoch_.bind(1, e.trial_id)
      .bind(2, e.epoch)
      .bind(3, e.seconds)
      .bind(4, unix_seconds())
      .run();
  for (const auto& [name, value] : e.values) {
    insert_epoch_metric_.reset();
    insert_epoch_metric_.bind(1, e.trial_id).bind(2, e.epoch).bind(3, name).bind(4, value).run();
  }
  update_progress_.reset();
  update_progress_.bind(1, e.epoch).bind(2, e.trial_id).run();
  if (!e.state.empty()) {
    record_state(e.trial_id, e.state);
  }
  transaction.commit();
}

void Store::mark_paused(int64_t trial_id) {
  mark_paused_.reset();
  mark_paused_.bind(1, trial_id).run();
}

void Store::end_paused(int64_t trial_id) {
  end_paused_.reset();
  end_paused_.bind(1, trial_id).run();
}

void Store::record_rung(int64_t trial_id, int epoch, double value, RungOutcome outcome) {
  record_rung_.reset();
  record_rung_.bind(1, trial_id).bind(2, epoch).bind(3, value).bind(4, to_string(outcome)).run();
}

void Store::set_rung_outcome(int64_t trial_id, int epoch, RungOutcome outcome) {
  set_rung_outcome_.reset();
  set_rung_outcome_.bind(1, to_string(outcome)).bind(2, trial_id).bind(3, epoch).run();
}

void Store::reopen_trial(int64_t trial_id, int epoch) {
  sql::Transaction transaction(db_);
  for (sql::Statement* drop : {&drop_epoch_metrics_, &drop_epochs_, &drop_rungs_, &drop_lineage_}) {
    drop->reset();
    drop->bind(1, trial_id).bind(2, epoch).run();
  }
  reopen_trial_.reset();
  reopen_trial_.bind(1, epoch).bind(2, trial_id).run();
  transaction.commit();
}

void Store::finish_trial(const TrialResult& r, std::optional<double> objective) {
  const int k = static_cast<int>(r.class_names.size());
  if (!r.confusion.empty() && r.confusion.size() != static_cast<size_t>(k) * k) {
    throw std::invalid_argument(
        fmt::format("trial {}: confusion matrix has {} cells for {} classes", r.trial_id,
                    r.confusion.size(), k));
  }
  const auto text_or_null = [](const std::string& text) {
    return text.empty() ? std::optional<std::string>() : std::optional<std::string>(text);
  };
  sql::Transaction transaction(db_);
  // A promoted trial stored its result when it paused; the new one replaces it.
  for (sql::Statement* drop : {&drop_metrics_, &drop_report_, &drop_cells_}) {
    drop->reset();
    drop->bind(1, r.trial_id).run();
  }
  finish_trial_.reset();
  finish_trial_.bind(1, to_string(r.status))
      .bind(2, unix_seconds())
      .bind(3, r.epochs_completed)
      .bind(4, objective)
      .bind(5, r.wall_seconds)
      .bind(6, r.images_per_second)
      .bind(7, r.param_count)
      .bind(8, text_or_null(r.error))
      .bind(9, text_or_null(r.checkpoint))
      .bind(10, r.trial_id)
      .run();
  for (const auto& [name, value] : r.final_metrics) {
    insert_metric_.reset();
    insert_metric_.bind(1, r.trial_id).bind(2, name).bind(3, value).run();
  }
  for (size_t c = 0; c < r.per_class.size(); ++c) {
    const ClassMetrics& m = r.per_class[c];
    insert_report_.reset();
    insert_report_.bind(1, r.trial_id)
        .bind(2, static_cast<int64_t>(c))
        .bind(3, m.name)
        .bind(4, m.precision)
        .bind(5, m.recall)
        .bind(6, m.f1)
        .bind(7, m.support)
        .run();
  }
  for (int a = 0; a < k && !r.confusion.empty(); ++a) {
    for (int p = 0; p < k; ++p) {
      insert_cell_.reset();
      insert_cell_.bind(1, r.trial_id).bind(2, a).bind(3, p).bind(4, r.confusion[a * k + p]).run();
    }
  }
  transaction.commit();
}

std::optional<StoredSweep> Store::latest_sweep_named(const std::string& name) {
  latest_sweep_.reset();
  latest_sweep_.bind(1, name);
  if (!latest_sweep_.step()) return std::nullopt;
  const int64_t id = latest_sweep_.integer(0);
  const std::string where = fmt::format("{}: sweep {}", path(), id);
  return StoredSweep{id, enum_from_name<SweepStatus>(latest_sweep_.text(1), where + ": status"),
                     parse_json(latest_sweep_.text(2), where + ": spec_json")};
}

double StoredTrial::seconds_up_to(int epoch) const {
  double seconds = 0;
  for (const auto& [e, s] : seconds_by_epoch) {
    if (e <= epoch) seconds += s;
  }
  return seconds;
}

std::vector<StoredTrial> Store::trials_of(int64_t sweep_id,
                                          const std::vector<std::string>& objectives) {
  std::vector<StoredTrial> trials;
  trials_of_.reset();
  trials_of_.bind(1, sweep_id);
  while (trials_of_.step()) {
    StoredTrial t;
    t.id = trials_of_.integer(0);
    const std::string where = fmt::format("{}: trial {}", path(), t.id);
    t.number = static_cast<int>(trials_of_.integer(1));
    t.params = parse_json(trials_of_.text(2), where + ": params_json");
    t.seed = static_cast<uint64_t>(trials_of_.integer(3));
    t.status = enum_from_name<TrialStatus>(trials_of_.text(4), where + ": status");
    t.objective = trials_of_.optional_real(5);
    t.epochs_completed = trials_of_.is_null(6) ? 0 : static_cast<int>(trials_of_.integer(6));
    if (!trials_of_.is_null(7)) {
      t.state = {trials_of_.text(7), static_cast<int>(trials_of_.integer(8)),
                 static_cast<uint64_t>(trials_of_.integer(9))};
    }
    t.current_params =
        trials_of_.is_null(10) ? t.params : parse_json(trials_of_.text(10), where + ": lineage");
    t.schedule_epoch = trials_of_.is_null(11) ? 0 : static_cast<int>(trials_of_.integer(11));
    trials.push_back(std::move(t));
  }
  for (StoredTrial& t : trials) {
    std::map<int, std::vector<double>> by_epoch;
    for (const std::string& metric : objectives) {
      epoch_values_.reset();
      epoch_values_.bind(1, t.id).bind(2, metric);
      while (epoch_values_.step()) {
        by_epoch[static_cast<int>(epoch_values_.integer(0))].push_back(epoch_values_.real(1));
      }
      final_value_.reset();
      final_value_.bind(1, t.id).bind(2, metric);
      if (final_value_.step()) t.objectives.push_back(final_value_.real(0));
    }
    if (t.objectives.size() != objectives.size()) t.objectives.clear();
    if (t.status == TrialStatus::kInfeasible) {
      final_value_.reset();
      final_value_.bind(1, t.id).bind(2, std::string(kViolationMetric));
      if (final_value_.step()) t.violation = final_value_.real(0);
    }
    for (auto& [epoch, values] : by_epoch) {
      if (values.size() == objectives.size()) t.objective_by_epoch.emplace_back(epoch, values);
    }
    epoch_seconds_.reset();
    epoch_seconds_.bind(1, t.id);
    while (epoch_seconds_.step()) {
      t.seconds_by_epoch.emplace_back(static_cast<int>(epoch_seconds_.integer(0)),
                                      epoch_seconds_.real(1));
    }
  }
  return trials;
}

void Store::record_state(int64_t trial_id, const StateRef& state) {
  record_state_.reset();
  record_state_.bind(1, state.path)
      .bind(2, state.epoch)
      .bind(3, static_cast<int64_t>(state.digest))
      .bind(4, trial_id)
      .run();
}

void Store::record_schedule(int64_t trial_id, int epoch, std::optional<int64_t> parent,
                            const nlohmann::json& params, const std::optional<StateRef>& state) {
  sql::Transaction transaction(db_);
  insert_lineage_.reset();
  insert_lineage_.bind(1, trial_id).bind(2, epoch).bind(3, parent).bind(4, params.dump()).run();
  if (state) {
    record_state(trial_id, *state);
  }
  transaction.commit();
}

void Store::mark_interrupted(int64_t trial_id, const std::string& why, int epochs_in_flight) {
  interrupt_trial_.reset();
  interrupt_trial_.bind(1, why)
      .bind(2, unix_seconds())
      .bind(3, epochs_in_flight)
      .bind(4, trial_id)
      .run();
}

void copy_database(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  const sql::Database source = open_database(from, true);
  const std::string part = to + ".part";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(part + suffix);
  try {
    sql::backup(source, part);
  } catch (const sql::SqliteError& e) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(part + suffix);
    throw InputError(fmt::format("{}: cannot write the copy: {}", to, e.what()));
  }
  // A -wal left at `to` belongs to the file being replaced: paired with the new one it would
  // replay old pages onto it. Without it, a reader in between sees the old file, whole.
  std::error_code error;
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(to + suffix, error);
  fs::rename(part, to, error);
  if (error) {
    throw InputError(fmt::format("{}: cannot replace it with {}: {}", to, part, error.message()));
  }
}

}  // namespace fersweep::results
