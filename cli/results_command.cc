#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "results/queries.h"
#include "results/store.h"
#include "results/tables.h"

namespace fersweep::cli {

const char* const kResultsHelp = R"(usage: fersweep results --db DB <subcommand> [options]

Reads a sweep database (read-only; safe while the sweep is still running).

subcommands:
  sweeps              the sweeps in the database, with trial counts by status
  rank                finished trials of a sweep, best first
    --metric NAME       rank by this final metric (default: the sweep's objective)
    --top K             show the best K (default 10)
    --sweep ID          which sweep (default: the newest)
  show TRIAL          one trial: parameters, per-epoch curve, validation confusion matrix
                      and per-class precision / recall / F1 / support
  upgrade             upgrade a database written by an older fersweep to this schema, in
                      place and in one transaction (the only subcommand that writes)

options:
  --db DB             the SQLite results database (required)
  --json              machine-readable output instead of tables
  -h, --help          this help
)";

int results_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kResultsHelp, stdout);
    return 0;
  }
  const Args args(raw, {"json"}, {"db", "metric", "top", "sweep"}, "fersweep results");
  args.expect_positionals(1, 2, "a subcommand (sweeps, rank, show or upgrade)");
  const std::string& subcommand = args.positionals()[0];
  const bool json = args.flag("json");
  const std::string db_path = args.required_option("db");

  if (subcommand == "sweeps") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    nlohmann::json rows = nlohmann::json::array();
    std::string table = fmt::format("{:>5} {:<20} {:<7} {:<11} {:>8} {:>8}  {}\n", "sweep", "name",
                                    "method", "status", "finished", "planned", "created");
    for (const auto& s : reader.sweeps()) {
      const int64_t finished = s.trials_with_status("finished");
      rows.push_back({{"id", s.id},
                      {"name", s.name},
                      {"method", s.method},
                      {"status", s.status},
                      {"metric", s.metric},
                      {"planned_trials", s.planned_trials},
                      {"trials_by_status", s.trials_by_status},
                      {"created_at", s.created_at}});
      table +=
          fmt::format("{:>5} {:<20} {:<7} {:<11} {:>8} {:>8}  {}\n", s.id, s.name.substr(0, 20),
                      s.method, s.status, finished, s.planned_trials, s.created_at);
    }
    fmt::print("{}", json ? rows.dump(2) + "\n" : table);
    return 0;
  }
  if (subcommand == "rank") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const std::string metric = args.option("metric").value_or(sweep.metric);
    // Losses are minimised, everything else (accuracy, F1) maximised, unless it is the objective.
    const bool maximize = metric == sweep.metric ? sweep.maximize : !metric.ends_with("loss");
    const int top = static_cast<int>(args.int_option("top", 1, 1000000).value_or(10));
    const auto ranked = reader.rank(sweep.id, metric, maximize, top);
    fmt::print("{}", json ? results::rank_json(sweep, ranked, metric).dump(2) + "\n"
                          : results::rank_table(sweep, ranked, metric));
    return 0;
  }
  if (subcommand == "show") {
    args.expect_positionals(2, 2, "TRIAL (a trial id, as printed by rank)");
    int64_t trial_id = 0;
    try {
      size_t used = 0;
      trial_id = std::stoll(args.positionals()[1], &used);
      if (used != args.positionals()[1].size() || trial_id < 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError(
          fmt::format("fersweep results show: TRIAL must be a positive trial id, got \"{}\"",
                      args.positionals()[1]));
    }
    const results::Reader reader(db_path);
    const results::TrialDetail detail = reader.trial(trial_id);
    fmt::print("{}",
               json ? results::trial_json(detail).dump(2) + "\n" : results::trial_text(detail));
    return 0;
  }
  if (subcommand == "upgrade") {
    args.expect_positionals(1, 1, "");
    if (!std::filesystem::exists(db_path)) {
      throw InputError(fmt::format("{}: no such database", db_path));
    }
    results::Store store(db_path);  // opening for writing upgrades the schema
    fmt::print("{}: schema version {}\n", db_path, results::kSchemaVersion);
    return 0;
  }
  throw InputError(fmt::format(
      "fersweep results: unknown subcommand \"{}\" (choose from sweeps, rank, show, upgrade)",
      subcommand));
}

}  // namespace fersweep::cli
