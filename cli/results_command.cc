#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "common/metrics.h"
#include "common/status_board.h"
#include "common/stop_signal.h"
#include "common/text.h"
#include "results/importance.h"
#include "results/pareto_front.h"
#include "results/progress.h"
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
    --metric NAME       rank by this final metric (default: the sweep's first objective;
                        each objective by its own goal)
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
  pareto              the non-dominated finished trials over several objectives, with their
                      parameter counts and the hypervolume they dominate
    --metrics LIST      e.g. "val_macro_f1:max,param_count:min" (default: the sweep's
                        objectives; final metrics, or param_count)
    --reference LIST    the hypervolume's reference point, one value per objective
                        (default: 1.1x beyond the worst finished value of each)
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
                      place and in one transaction (the only subcommand that writes DB)
  watch               a sweep's progress while another job writes DB: trials by status, the
                      best so far, busy workers, elapsed time and an ETA; on a terminal one
                      block redrawn every second until the sweep ends or Ctrl-C, elsewhere a
                      block (or with --json a line) every --interval seconds (default 2)
    --once              print it once and exit
  copy --out FILE     a consistent copy of DB, also while a sweep writes it, as one file put
                      in place by a rename (a stale FILE-wal beside it is removed first)

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

// What every subcommand gets: the arguments, the database path and the output form.
struct Context {
  const Args& args;
  std::string db;
  bool json;

  results::SweepSummary sweep(const results::Reader& reader) const {
    return reader.sweep(args.int_option("sweep", 1, INT64_MAX));
  }
  // Everything goes out through here: JSON with valid UTF-8, text without control characters.
  int print(const nlohmann::json& document, const std::string& text) const {
    fmt::print("{}", json ? json_text(document, 2) + "\n" : terminal_text(text));
    return 0;
  }
  int print_written(const std::vector<std::string>& written) const {
    return print({{"written", written}}, fmt::format("wrote {}\n", fmt::join(written, ", ")));
  }
};

int sweeps(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const auto all = results::Reader(c.db).sweeps();
  return c.json ? c.print(results::sweeps_json(all), "") : c.print({}, results::sweeps_table(all));
}

int rank(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const results::SweepSummary sweep = c.sweep(reader);
  const std::string metric = c.args.option("metric").value_or(sweep.metric);
  // Each of the sweep's objectives ranks by its own goal; other metrics by their name.
  bool maximize = larger_is_better(metric, sweep.metric, sweep.maximize);
  for (const results::FrontObjective& o : results::sweep_objectives(sweep)) {
    if (o.metric == metric) maximize = o.maximize;
  }
  const int top = static_cast<int>(c.args.int_option("top", 1, 1000000).value_or(10));
  const auto ranked = reader.rank(sweep.id, metric, maximize, top);
  return c.json ? c.print(results::rank_json(sweep, ranked, metric), "")
                : c.print({}, results::rank_table(sweep, ranked, metric));
}

int show(const Context& c) {
  c.args.expect_positionals(2, 2, "TRIAL (a trial id, as printed by rank)");
  const int64_t id = trial_id(c.args.positionals()[1], "show");
  const results::TrialDetail detail = results::Reader(c.db).trial(id);
  return c.json ? c.print(results::trial_json(detail), "")
                : c.print({}, results::trial_text(detail, c.args.flag("normalize")));
}

int list(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const results::SweepSummary sweep = c.sweep(reader);
  const auto trials = reader.list(sweep.id, c.args.option("where").value_or(""));
  const std::string metric = c.args.option("metric").value_or(sweep.metric);
  return c.json ? c.print(results::list_json(trials), "")
                : c.print({}, results::list_table(trials, metric));
}

int compare(const Context& c) {
  c.args.expect_positionals(3, 64, "T1 T2 ... (two or more trial ids)");
  std::vector<int64_t> ids;
  for (size_t i = 1; i < c.args.positionals().size(); ++i) {
    ids.push_back(trial_id(c.args.positionals()[i], "compare"));
  }
  const results::Reader reader(c.db);
  std::vector<results::TrialDetail> details;
  for (const int64_t id : ids) details.push_back(reader.trial(id));
  return c.json ? c.print(results::compare_json(details), "")
                : c.print({}, results::compare_text(details));
}

int summary(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const results::SweepSummary sweep = c.sweep(reader);
  const nlohmann::json document = results::summary_json(sweep, reader.trials(sweep.id));
  return c.print(document, results::summary_text(document));
}

int pareto(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const results::SweepSummary sweep = c.sweep(reader);
  std::vector<results::FrontObjective> objectives = results::sweep_objectives(sweep);
  if (const auto named = c.args.option("metrics")) {
    objectives = results::parse_front_objectives(*named, "--metrics");
  } else if (objectives.size() < 2) {
    throw InputError(fmt::format(
        "fersweep results pareto: sweep {} has one objective ({}); name two or more with "
        "--metrics, e.g. --metrics {}:{},param_count:min",
        sweep.id, sweep.metric, sweep.metric, sweep.maximize ? "max" : "min"));
  }
  std::optional<std::vector<double>> reference;
  if (const auto text = c.args.option("reference")) {
    reference.emplace();
    for (const std::string& item : split(*text, ',')) {
      size_t used = 0;
      double value = NAN;
      try {
        value = std::stod(item, &used);
      } catch (const std::exception&) {
      }
      if (used != item.size() || !std::isfinite(value)) {
        throw InputError(
            fmt::format("--reference: expected numbers, comma-separated, got \"{}\"", item));
      }
      reference->push_back(value);
    }
  }
  const results::ParetoFront front =
      results::pareto_front(reader.trials(sweep.id), objectives, reference);
  return c.print(results::pareto_json(sweep, front), results::pareto_table(sweep, front));
}

int export_trials(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  return c.print_written(results::export_sweep(reader, c.sweep(reader),
                                               c.args.option("format").value_or("csv"),
                                               c.args.required_option("out")));
}

int importance(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const results::ImportanceView view = results::sweep_importance(reader, c.sweep(reader));
  return c.print(results::importance_json(view), results::importance_table(view));
}

int report(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  const std::string out = c.args.required_option("out");
  const std::string html = results::html_report(reader, c.sweep(reader));
  std::ofstream file(out, std::ios::binary);
  file << html;
  file.close();
  if (!file) throw InputError(fmt::format("--out: cannot write {}", out));
  return c.print_written({out});
}

int plot(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const results::Reader reader(c.db);
  return c.print_written(
      results::write_plots(reader, c.sweep(reader), c.args.required_option("out")));
}

int upgrade(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  if (!std::filesystem::exists(c.db)) throw InputError(fmt::format("{}: no such database", c.db));
  results::Store store(c.db);  // opening for writing upgrades the schema
  return c.print({{"database", c.db}, {"schema_version", results::kSchemaVersion}},
                 fmt::format("{}: schema version {}\n", c.db, results::kSchemaVersion));
}

nlohmann::json progress_json(const results::Progress& p) {
  nlohmann::json best;
  if (p.best && p.best->metrics.contains(p.sweep.metric)) {
    best = {{"trial", p.best->id}, {"value", p.best->metrics.at(p.sweep.metric)}};
  }
  return {{"sweep", p.sweep.id},
          {"status", to_string(p.sweep.status)},
          {"planned_trials", p.sweep.planned_trials},
          {"trials_by_status", results::status_counts_json(p.sweep)},
          {"best", best},
          {"busy_workers", p.busy_workers},
          {"elapsed_seconds", p.elapsed_seconds}};
}

int watch(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const auto interval = c.args.int_option("interval", 1, 3600).value_or(2);
  const int64_t sweep_id = c.sweep(results::Reader(c.db)).id;
  const auto progress = [&] { return results::read_progress(results::Reader(c.db), sweep_id); };
  install_stop_handlers();
  const auto wait_or_stop = [](int64_t seconds) {
    for (int64_t i = 0; i < seconds * 10 && stop_signal() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  if (!c.json && !c.args.flag("once") && StatusBoard::is_terminal(stdout)) {
    StatusBoard board(stdout, [&] { return results::progress_text(progress()); });
    while (stop_signal() == 0 && progress().sweep.status == SweepStatus::kRunning) wait_or_stop(1);
    board.close();
    fmt::print("{}\n", terminal_text(results::progress_text(progress())));
    return 0;
  }
  while (true) {
    const results::Progress now = progress();
    if (c.json) {
      fmt::print("{}\n", json_text(progress_json(now)));
    } else {
      fmt::print("{}\n\n", terminal_text(results::progress_text(now)));
    }
    std::fflush(stdout);
    if (c.args.flag("once") || now.sweep.status != SweepStatus::kRunning || stop_signal()) break;
    wait_or_stop(interval);
  }
  return 0;
}

int copy(const Context& c) {
  c.args.expect_positionals(1, 1, "");
  const std::string out = c.args.required_option("out");
  results::copy_database(c.db, out);
  return c.print({{"copied", c.db}, {"to", out}}, fmt::format("copied {} to {}\n", c.db, out));
}

struct Subcommand {
  const char* name;
  int (*run)(const Context&);
};

constexpr Subcommand kSubcommands[] = {
    {"sweeps", sweeps},
    {"rank", rank},
    {"list", list},
    {"show", show},
    {"compare", compare},
    {"summary", summary},
    {"pareto", pareto},
    {"export", export_trials},
    {"importance", importance},
    {"report", report},
    {"plot", plot},
    {"upgrade", upgrade},
    {"copy", copy},
    {"watch", watch},
};

std::string subcommand_names() {
  std::string names;
  for (const Subcommand& s : kSubcommands)
    names += (names.empty() ? "" : ", ") + std::string(s.name);
  return names;
}

}  // namespace

int results_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kResultsHelp, stdout);
    return 0;
  }
  const Args args(raw, {"json", "normalize", "once"},
                  {"db", "metric", "metrics", "reference", "top", "sweep", "where", "format", "out",
                   "interval"},
                  "fersweep results");
  args.expect_positionals(1, 64, "a subcommand (" + subcommand_names() + ")");
  const std::string& name = args.positionals()[0];
  const Context context{args, args.required_option("db"), args.flag("json")};
  for (const Subcommand& subcommand : kSubcommands) {
    if (name == subcommand.name) return subcommand.run(context);
  }
  throw InputError(fmt::format("fersweep results: unknown subcommand \"{}\" (choose from {})", name,
                               subcommand_names()));
}

}  // namespace fersweep::cli
