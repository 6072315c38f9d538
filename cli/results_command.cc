#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "results/importance.h"
#include "results/queries.h"
#include "results/report.h"
#include "results/store.h"
#include "results/tables.h"
#include "results/views.h"

namespace fersweep::cli {

const char* const kResultsHelp = R"help(usage: fersweep results --db DB <subcommand> [options]

Reads a sweep database (read-only; safe while the sweep is still running).

subcommands:
  sweeps              the sweeps in the database, with trial counts by status
  rank                finished trials of a sweep, best first
    --metric NAME       rank by this final metric (default: the sweep's objective)
    --top K             show the best K (default 10)
    --sweep ID          which sweep (default: the newest)
  list                trials of a sweep, in order
    --where FILTER      e.g. "status = finished and lr < 0.01 and arch in (vgg16, resnet18)";
                        fields: status, epochs, trial, any parameter or final metric
                        (params.NAME, metrics.NAME when a name is both); values are numbers,
                        words, [lists] or quoted strings
  show TRIAL          one trial: parameters, per-epoch curve, validation confusion matrix
                      and classification report (per class, accuracy, macro and weighted)
    --normalize         confusion-matrix rows as fractions of the actual class
  compare T1 T2 ...   trials side by side: parameters (* where they differ), final metrics,
                      per-class F1 and its change against T1
  summary             trial counts by status, the best trial, compute time
  export              every trial of a sweep, for pandas or a spreadsheet
    --format csv|json   csv (default): trials.csv (params and final metrics), epochs.csv,
                        confusion.csv, per_class.csv; json: one sweep.json
    --out DIR           where to write them (created if missing)
  importance          which parameters explain the objective: permutation importance on a
                      random forest of the finished trials (docs/RESULTS.md)
  report --out FILE   the sweep as one self-contained HTML page: leaderboard, learning
                      curves, confusion matrices, per-class F1, parallel coordinates,
                      parameter importance and the spec
  plot --out DIR      the same figures as SVG files
  upgrade             upgrade a database written by an older fersweep to this schema, in
                      place and in one transaction (the only subcommand that writes)

options:
  --db DB             the SQLite results database (required)
  --json              machine-readable output instead of tables
  -h, --help          this help
)help";

namespace {
int64_t trial_id(const std::string& text, const char* subcommand) {
  try {
    size_t used = 0;
    const int64_t id = std::stoll(text, &used);
    if (used == text.size() && id >= 1) return id;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("fersweep results {}: TRIAL must be a positive trial id, got \"{}\"",
                               subcommand, text));
}

}  // namespace

int results_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kResultsHelp, stdout);
    return 0;
  }
  const Args args(raw, {"json", "normalize"},
                  {"db", "metric", "top", "sweep", "where", "format", "out"}, "fersweep results");
  args.expect_positionals(
      1, 64, "a subcommand (sweeps, rank, list, show, compare, summary, export or upgrade)");
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
    const int64_t id = trial_id(args.positionals()[1], "show");
    const results::Reader reader(db_path);
    const results::TrialDetail detail = reader.trial(id);
    fmt::print("{}", json ? results::trial_json(detail).dump(2) + "\n"
                          : results::trial_text(detail, args.flag("normalize")));
    return 0;
  }
  if (subcommand == "list") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const auto trials = reader.list(sweep.id, args.option("where").value_or(""));
    const std::string metric = args.option("metric").value_or(sweep.metric);
    fmt::print("{}", json ? results::list_json(trials).dump(2) + "\n"
                          : results::list_table(trials, metric));
    return 0;
  }
  if (subcommand == "compare") {
    args.expect_positionals(3, 64, "T1 T2 ... (two or more trial ids)");
    std::vector<int64_t> ids;
    for (size_t i = 1; i < args.positionals().size(); ++i) {
      ids.push_back(trial_id(args.positionals()[i], "compare"));
    }
    const results::Reader reader(db_path);
    std::vector<results::TrialDetail> details;
    for (const int64_t id : ids) details.push_back(reader.trial(id));
    fmt::print("{}", json ? results::compare_json(details).dump(2) + "\n"
                          : results::compare_text(details));
    return 0;
  }
  if (subcommand == "summary") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const nlohmann::json summary = results::summary_json(sweep, reader.trials(sweep.id));
    fmt::print("{}", json ? summary.dump(2) + "\n" : results::summary_text(summary));
    return 0;
  }
  if (subcommand == "export") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const auto written = results::export_sweep(reader, sweep, args.option("format").value_or("csv"),
                                               args.required_option("out"));
    fmt::print("{}", json ? nlohmann::json{{"written", written}}.dump(2) + "\n"
                          : fmt::format("wrote {}\n", fmt::join(written, ", ")));
    return 0;
  }
  if (subcommand == "importance") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    std::vector<nlohmann::json> params;
    std::vector<double> objective;
    for (const auto& t : reader.rank(sweep.id, sweep.metric, sweep.maximize, 1000000)) {
      params.push_back(t.params);
      objective.push_back(t.metrics.at(sweep.metric));
    }
    const auto importance = results::parameter_importance(params, objective);
    nlohmann::json rows = nlohmann::json::array();
    std::string table = fmt::format("{:<20} {:>8}  (of {} over {} finished trials)\n", "parameter",
                                    "share", sweep.metric, params.size());
    for (const auto& i : importance) {
      rows.push_back({{"parameter", i.parameter}, {"share", i.share}});
      table += fmt::format("{:<20} {:>8.3f}  {}\n", i.parameter.substr(0, 20), i.share,
                           std::string(static_cast<size_t>(std::lround(i.share * 40)), '#'));
    }
    fmt::print("{}",
               json ? nlohmann::json{{"metric", sweep.metric}, {"importance", rows}}.dump(2) + "\n"
                    : table);
    return 0;
  }
  if (subcommand == "report" || subcommand == "plot") {
    args.expect_positionals(1, 1, "");
    const results::Reader reader(db_path);
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const std::string out = args.required_option("out");
    std::vector<std::string> written;
    if (subcommand == "plot") {
      written = results::write_plots(reader, sweep, out);
    } else {
      const std::string html = results::html_report(reader, sweep);
      std::ofstream file(out, std::ios::binary);
      file << html;
      file.close();
      if (!file) throw InputError(fmt::format("--out: cannot write {}", out));
      written.push_back(out);
    }
    fmt::print("{}", json ? nlohmann::json{{"written", written}}.dump(2) + "\n"
                          : fmt::format("wrote {}\n", fmt::join(written, ", ")));
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
      "fersweep results: unknown subcommand \"{}\" (choose from sweeps, rank, list, show, "
      "compare, summary, export, importance, report, plot, upgrade)",
      subcommand));
}

}  // namespace fersweep::cli
