#include "results/tables.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include <fmt/format.h>

namespace fersweep::results {

std::string format_value(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{:.4g}", value.get<double>());
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out += ',';
      out += format_value(value[i]);
    }
    return out + "]";
  }
  return value.dump();
}

std::vector<std::string> varying_parameters(const std::vector<TrialSummary>& trials) {
  std::set<std::string> names;
  for (const auto& t : trials) {
    for (const auto& [name, value] : t.params.items()) names.insert(name);
  }
  std::vector<std::string> varying;
  for (const auto& name : names) {
    std::set<std::string> seen;
    for (const auto& t : trials) seen.insert(t.params.contains(name) ? t.params[name].dump() : "-");
    if (seen.size() > 1 || trials.size() == 1) varying.push_back(name);
  }
  return varying;
}

std::string wrap_column(const std::string& text, size_t indent) {
  constexpr size_t kWidth = 80;
  const size_t width = kWidth > indent + 20 ? kWidth - indent : 20;
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

std::string params_text(const nlohmann::json& params, const std::vector<std::string>& names) {
  std::string out;
  const auto add = [&](const std::string& name, const nlohmann::json& value) {
    out += (out.empty() ? "" : " ") + name + "=" + format_value(value);
  };
  if (names.empty()) {
    for (const auto& [name, value] : params.items()) add(name, value);
  }
  for (const auto& name : names) {
    if (params.contains(name)) add(name, params[name]);
  }
  return out;
}

namespace {

std::string metric_or_dash(const TrialSummary& t, const std::string& name) {
  auto it = t.metrics.find(name);
  return it == t.metrics.end() ? "-" : fmt::format("{:.4f}", it->second);
}

// The metrics any epoch recorded: the trainer's usual ones in their usual order, then the rest.
std::vector<std::string> epoch_columns(const std::vector<EpochMetrics>& epochs) {
  std::set<std::string> seen;
  for (const auto& e : epochs) {
    for (const auto& [name, value] : e.values) seen.insert(name);
  }
  std::vector<std::string> columns;
  for (const auto& name : epoch_metric_names()) {
    if (seen.erase(name)) columns.push_back(name);
  }
  columns.insert(columns.end(), seen.begin(), seen.end());
  return columns;
}

int column_width(const std::string& name) {
  return std::max<int>(9, static_cast<int>(name.size()));
}

// A second metric worth showing beside the ranked one: loss beside accuracy and vice versa.
std::string companion_metric(const std::vector<TrialSummary>& ranked, const std::string& metric) {
  for (const char* name : {"val_loss", "val_accuracy", "train_loss"}) {
    if (name != metric && ranked.front().metrics.count(name)) return name;
  }
  return "";
}

}  // namespace

std::string rank_table(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                       const std::string& metric) {
  const std::string planned = sweep.planned_trials > 0
                                  ? fmt::format("of {} planned", sweep.planned_trials)
                                  : std::string("(wall-time budget)");
  std::string others;
  for (const TrialStatus status : {TrialStatus::kPruned, TrialStatus::kInfeasible}) {
    if (const int64_t n = sweep.trials_with_status(status); n > 0) {
      others += fmt::format(", {} {}", n, to_string(status));
    }
  }
  std::string out =
      fmt::format("sweep {} \"{}\" ({}, {} {}): {} finished {}{}\n", sweep.id, sweep.name,
                  sweep.method, sweep.maximize ? "maximize" : "minimize", sweep.metric,
                  sweep.trials_with_status(TrialStatus::kFinished), planned, others);
  if (ranked.empty()) return out + "no finished trials yet\n";
  const std::string other = companion_metric(ranked, metric);
  out += fmt::format("{:>4} {:>5} {:>12} {:>12} {:>6} {:>7}  {}\n", "rank", "trial",
                     metric.substr(0, 12), other.substr(0, 12), "epochs", "time_s", "parameters");
  const auto varying = varying_parameters(ranked);
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& t = ranked[i];
    const std::string params = params_text(t.params, varying);
    out += fmt::format("{:>4} {:>5} {:>12} {:>12} {:>6} {:>7.1f}  {}\n", i + 1, t.id,
                       metric_or_dash(t, metric), other.empty() ? "" : metric_or_dash(t, other),
                       t.epochs_completed, t.wall_seconds, wrap_column(params, 55));
  }
  return out;
}

nlohmann::json rank_json(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                         const std::string& metric) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& t = ranked[i];
    rows.push_back({{"rank", i + 1},
                    {"trial", t.id},
                    {"number", t.number},
                    {"value", t.metrics.at(metric)},
                    {"metrics", t.metrics},
                    {"params", t.params},
                    {"epochs_completed", t.epochs_completed},
                    {"wall_seconds", t.wall_seconds},
                    {"images_per_second", t.images_per_second},
                    {"param_count", t.param_count}});
  }
  return {{"sweep", {{"id", sweep.id}, {"name", sweep.name}, {"status", to_string(sweep.status)}}},
          {"metric", metric},
          {"trials", rows}};
}

std::string trial_text(const TrialDetail& d, bool normalize) {
  const auto& t = d.trial;
  std::string out =
      fmt::format("trial {} (sweep {}, #{}): {}", t.id, t.sweep_id, t.number, to_string(t.status));
  if (t.worker_rank) out += fmt::format(" on rank {}", *t.worker_rank);
  out += fmt::format("\n  {} epochs, {:.1f} s, {:.0f} images/s, {} parameters\n",
                     t.epochs_completed, t.wall_seconds, t.images_per_second, t.param_count);
  if (!t.error.empty()) out += "  error: " + t.error + "\n";
  if (!t.checkpoint.empty()) out += "  best model: " + t.checkpoint + "\n";
  if (!t.state_path.empty()) {
    out += fmt::format("  training state after epoch {}: {}\n", t.state_epoch, t.state_path);
  }
  if (t.runs > 1) {
    out += fmt::format(
        "  ran {} times, continued from its training state {} time(s); {} epoch(s) "
        "redone\n",
        t.runs, t.runs - 1, t.epochs_redone);
  }
  if (!d.rungs.empty()) {
    out += "  rungs:";
    for (const RungRecord& r : d.rungs) {
      out += fmt::format(" epoch {} {:.4f} {};", r.epoch, r.value, to_string(r.outcome));
    }
    out.back() = '\n';
  }
  out += "\nparameters\n";
  for (const auto& [name, value] : t.params.items()) {
    out += fmt::format("  {:<16} {}\n", name, format_value(value));
  }
  // PBT: what changed at each exploit, and whose state the member loaded.
  const nlohmann::json* before = d.schedule.empty() ? nullptr : &d.schedule.front().params;
  for (size_t i = 1; i < d.schedule.size(); ++i) {
    const ScheduleRecord& r = d.schedule[i];
    std::string changes;
    for (const auto& [name, value] : r.params.items()) {
      if (before->contains(name) && before->at(name) == value) continue;
      changes += fmt::format(" {}={}", name, format_value(value));
    }
    out += fmt::format("  after epoch {}: {}{}\n", r.epoch,
                       r.parent ? fmt::format("loaded trial {}'s state;", *r.parent)
                                : std::string("kept its state;"),
                       changes.empty() ? std::string(" same params") : changes);
    before = &r.params;
  }
  if (!d.epochs.empty()) {
    const std::vector<std::string> columns = epoch_columns(d.epochs);
    out += fmt::format("\n{:>5}", "epoch");
    for (const auto& name : columns) out += fmt::format(" {:>{}}", name, column_width(name));
    out += fmt::format(" {:>7}\n", "sec");
    for (const auto& e : d.epochs) {
      out += fmt::format("{:>5}", e.epoch);
      for (const auto& name : columns) {
        const auto value = e.value(name);
        out +=
            fmt::format(" {:>{}}", value ? fmt::format("{:.4f}", *value) : "-", column_width(name));
      }
      out += fmt::format(" {:>7.1f}\n", e.seconds);
    }
  }
  const size_t k = d.class_names.size();
  if (k > 0 && d.confusion.size() == k * k) {
    out += fmt::format("\nconfusion matrix (rows: actual, columns: predicted{})\n",
                       normalize ? "; each row as a fraction of the actual class" : "");
    out += std::string(9, ' ');
    for (const auto& name : d.class_names) out += fmt::format(" {:>7}", name.substr(0, 7));
    out += "\n";
    for (size_t a = 0; a < k; ++a) {
      out += fmt::format("{:<9}", d.class_names[a].substr(0, 9));
      int64_t row = 0;
      for (size_t p = 0; p < k; ++p) row += d.confusion[a * k + p];
      for (size_t p = 0; p < k; ++p) {
        const int64_t n = d.confusion[a * k + p];
        out += normalize ? fmt::format(" {:>7.3f}", row > 0 ? static_cast<double>(n) / row : 0.0)
                         : fmt::format(" {:>7}", n);
      }
      out += "\n";
    }
    // The report as scikit-learn prints it, recomputed from the stored matrix.
    const ClassificationReport report =
        classification_report(ConfusionMatrix(static_cast<int>(k), d.confusion), d.class_names);
    const auto line = [](const std::string& name, const ClassMetrics& m) {
      return fmt::format("{:<12} {:>9.4f} {:>9.4f} {:>9.4f} {:>9}\n", name.substr(0, 12),
                         m.precision, m.recall, m.f1, m.support);
    };
    out += fmt::format("\n{:<12} {:>9} {:>9} {:>9} {:>9}\n", "", "precision", "recall", "f1",
                       "support");
    for (const auto& m : report.classes) out += line(m.name, m);
    out += fmt::format("\n{:<12} {:>9} {:>9} {:>9.4f} {:>9}\n", "accuracy", "", "", report.accuracy,
                       report.macro_avg.support);
    out += line("macro avg", report.macro_avg);
    out += line("weighted avg", report.weighted_avg);
  }
  return out;
}

nlohmann::json trial_json(const TrialDetail& d) {
  const auto& t = d.trial;
  nlohmann::json epochs = nlohmann::json::array(), rungs = nlohmann::json::array();
  for (const auto& e : d.epochs) epochs.push_back(e);
  for (const auto& r : d.rungs) {
    rungs.push_back({{"epoch", r.epoch}, {"value", r.value}, {"outcome", to_string(r.outcome)}});
  }
  nlohmann::json schedule = nlohmann::json::array();
  for (const auto& r : d.schedule) {
    schedule.push_back({{"epoch", r.epoch},
                        {"parent", r.parent ? nlohmann::json(*r.parent) : nlohmann::json()},
                        {"params", r.params}});
  }
  const size_t k = d.class_names.size();
  nlohmann::json matrix = nlohmann::json::array();
  for (size_t a = 0; a < k && d.confusion.size() == k * k; ++a) {
    matrix.push_back(
        std::vector<int64_t>(d.confusion.begin() + a * k, d.confusion.begin() + (a + 1) * k));
  }
  return {{"trial", t.id},
          {"sweep", t.sweep_id},
          {"number", t.number},
          {"status", to_string(t.status)},
          {"error", t.error},
          {"params", t.params},
          {"objective", t.objective ? nlohmann::json(*t.objective) : nlohmann::json()},
          {"metrics", t.metrics},
          {"epochs_completed", t.epochs_completed},
          {"wall_seconds", t.wall_seconds},
          {"images_per_second", t.images_per_second},
          {"param_count", t.param_count},
          {"checkpoint", t.checkpoint},
          {"state", t.state_path.empty()
                        ? nlohmann::json()
                        : nlohmann::json{{"path", t.state_path}, {"epoch", t.state_epoch}}},
          {"runs", t.runs},
          {"epochs_redone", t.epochs_redone},
          {"rungs", rungs},
          {"schedule", schedule},
          {"epochs", epochs},
          {"class_names", d.class_names},
          {"confusion_matrix", matrix},
          {"per_class", d.per_class}};
}

nlohmann::json status_counts_json(const SweepSummary& sweep) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [status, n] : sweep.trials_by_status) counts[to_string(status)] = n;
  return counts;
}

std::string status_counts_text(const SweepSummary& sweep) {
  std::string out;
  for (const auto& [status, n] : sweep.trials_by_status) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, to_string(status));
  }
  return out.empty() ? "no trials" : out;
}

std::string sweeps_table(const std::vector<SweepSummary>& sweeps) {
  std::string out = fmt::format("{:>5} {:<20} {:<7} {:<11} {:>8} {:>8}  {}\n", "sweep", "name",
                                "method", "status", "finished", "planned", "created");
  for (const auto& s : sweeps) {
    out += fmt::format("{:>5} {:<20} {:<7} {:<11} {:>8} {:>8}  {}\n", s.id, s.name.substr(0, 20),
                       s.method, to_string(s.status), s.trials_with_status(TrialStatus::kFinished),
                       s.planned_trials, s.created_at);
  }
  return out;
}

nlohmann::json sweeps_json(const std::vector<SweepSummary>& sweeps) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : sweeps) {
    rows.push_back({{"id", s.id},
                    {"name", s.name},
                    {"method", s.method},
                    {"status", to_string(s.status)},
                    {"metric", s.metric},
                    {"planned_trials", s.planned_trials},
                    {"trials_by_status", status_counts_json(s)},
                    {"created_at", s.created_at}});
  }
  return rows;
}

}  // namespace fersweep::results
