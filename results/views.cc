#include "results/views.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "common/constraints.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "common/text.h"
#include "results/tables.h"

namespace fersweep::results {
namespace {

std::vector<std::string> all_parameter_names(const std::vector<nlohmann::json>& params) {
  std::set<std::string> names;
  for (const auto& p : params) {
    for (const auto& [name, value] : p.items()) names.insert(name);
  }
  return {names.begin(), names.end()};
}

uintmax_t size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// A best model's description and the weights file it names; a description that cannot be read
// counts for itself alone.
uintmax_t checkpoint_bytes(const std::string& json_path) {
  namespace fs = std::filesystem;
  uintmax_t bytes = size_or_zero(json_path);
  const std::optional<std::string> text = file_text(json_path);
  if (!text) return bytes;
  try {
    const nlohmann::json description = parse_json(*text, json_path);
    if (description.is_object() && description.value("weights", nlohmann::json()).is_string()) {
      bytes += size_or_zero(fs::path(json_path).parent_path() /
                            description["weights"].get<std::string>());
    }
  } catch (const InputError&) {
  }
  return bytes;
}

std::string megabytes(uintmax_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

std::string value_or_dash(const nlohmann::json& params, const std::string& name) {
  return params.contains(name) ? format_value(params[name]) : "-";
}

// RFC 4180: quote fields holding a comma, quote or line break, doubling inner quotes.
std::string csv_field(const std::string& raw) {
  const std::string s = valid_utf8(raw);  // a CSV reader decodes UTF-8; a stray byte would stop it
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(fields[i]);
  }
  return out + "\n";
}

std::string number(double v) {
  return fmt::format("{}", v);
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
}

}  // namespace

std::string list_table(const std::vector<TrialSummary>& trials, const std::string& metric) {
  std::string out = fmt::format("{:>5} {:>4} {:<8} {:>6} {:>12}  {}\n", "trial", "#", "status",
                                "epochs", metric.substr(0, 12), "parameters");
  const std::vector<std::string> varying = varying_parameters(trials);
  for (const auto& t : trials) {
    const std::string params = params_text(t.params, varying);
    const auto it = t.metrics.find(metric);
    out += fmt::format("{:>5} {:>4} {:<8} {:>6} {:>12}  {}\n", t.id, t.number, to_string(t.status),
                       t.epochs_completed,
                       it == t.metrics.end() ? "-" : fmt::format("{:.4f}", it->second),
                       wrap_column(params, 42));
  }
  return out + fmt::format("{} trial(s); parameters shown where they differ\n", trials.size());
}

nlohmann::json list_json(const std::vector<TrialSummary>& trials) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : trials) {
    rows.push_back({{"trial", t.id},
                    {"number", t.number},
                    {"status", to_string(t.status)},
                    {"error", t.error},
                    {"epochs_completed", t.epochs_completed},
                    {"params", t.params},
                    {"metrics", t.metrics}});
  }
  return {{"trials", rows}};
}

namespace {

std::string metric_text(const std::string&, double value) {
  return fmt::format("{:.4f}", value);
}

// 1328102 parameters as "1.33M", 3.52e8 FLOPs as "352M"; memory in MiB and times in ms as is.
std::string cost_text(const std::string& name, double value) {
  if (name != "param_count" && name != "flops") return fmt::format("{:.2f}", value);
  constexpr std::pair<double, const char*> kScales[] = {
      {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const auto& [scale, suffix] : kScales) {
    if (std::abs(value) >= scale) return fmt::format("{:.3g}{}", value / scale, suffix);
  }
  return fmt::format("{:.0f}", value);
}

}  // namespace

std::string compare_text(const std::vector<TrialDetail>& trials) {
  std::vector<nlohmann::json> params;
  for (const auto& d : trials) params.push_back(d.trial.params);
  std::string out = fmt::format("{:<18}", "");
  for (const auto& d : trials) out += fmt::format(" {:>14}", fmt::format("trial {}", d.trial.id));
  out += "\n";
  const auto cell = [](const std::string& s) {
    return fmt::format(" {:>14}", s.size() > 14 ? s.substr(0, 13) + "~" : s);
  };
  for (const auto& name : all_parameter_names(params)) {
    std::set<std::string> seen;
    for (const auto& p : params) seen.insert(value_or_dash(p, name));
    out += fmt::format("{}{:<17}", seen.size() > 1 ? '*' : ' ', name.substr(0, 17));
    for (const auto& p : params) out += cell(value_or_dash(p, name));
    out += "\n";
  }
  std::set<std::string> metrics, costs;
  for (const auto& d : trials) {
    for (const auto& [name, v] : d.trial.metrics)
      (is_cost_metric(name) ? costs : metrics).insert(name);
  }
  out += fmt::format("\n {:<17}", "status");
  for (const auto& d : trials) out += cell(to_string(d.trial.status));
  out += "\n";
  // The metrics, then what each network costs (common/constraints.h), in units that read.
  for (const auto& [names, format] :
       {std::pair{&metrics, &metric_text}, std::pair{&costs, &cost_text}}) {
    if (names->empty()) continue;
    out += "\n";
    for (const auto& name : *names) {
      out += fmt::format(" {:<17}", name.substr(0, 17));
      for (const auto& d : trials) {
        const auto it = d.trial.metrics.find(name);
        out += cell(it == d.trial.metrics.end() ? "-" : format(name, it->second));
      }
      out += "\n";
    }
  }
  if (!trials.front().per_class.empty()) {
    out += fmt::format("\n{:<18}", "F1 (change)");
    for (const auto& d : trials) out += cell(fmt::format("trial {}", d.trial.id));
    out += "\n";
    for (size_t c = 0; c < trials.front().per_class.size(); ++c) {
      const ClassMetrics& base = trials.front().per_class[c];
      out += fmt::format(" {:<17}", base.name.substr(0, 17));
      for (const auto& d : trials) {
        const auto it = std::find_if(d.per_class.begin(), d.per_class.end(),
                                     [&](const ClassMetrics& m) { return m.name == base.name; });
        if (it == d.per_class.end()) {
          out += cell("-");
        } else if (&d == &trials.front()) {
          out += cell(fmt::format("{:.3f}", it->f1));
        } else {
          out += cell(fmt::format("{:.3f} ({:+.3f})", it->f1, it->f1 - base.f1));
        }
      }
      out += "\n";
    }
  }
  return out;
}

nlohmann::json compare_json(const std::vector<TrialDetail>& trials) {
  std::vector<nlohmann::json> params;
  for (const auto& d : trials) params.push_back(d.trial.params);
  nlohmann::json differing = nlohmann::json::array();
  for (const auto& name : all_parameter_names(params)) {
    std::set<std::string> seen;
    for (const auto& p : params) seen.insert(p.contains(name) ? p[name].dump() : "");
    if (seen.size() > 1) differing.push_back(name);
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& d : trials) {
    nlohmann::json f1_change = nlohmann::json::object();
    for (const auto& m : d.per_class) {
      for (const auto& b : trials.front().per_class) {
        if (b.name == m.name) f1_change[m.name] = m.f1 - b.f1;
      }
    }
    rows.push_back({{"trial", d.trial.id},
                    {"params", d.trial.params},
                    {"metrics", d.trial.metrics},
                    {"per_class", d.per_class},
                    {"f1_change_from_first", f1_change}});
  }
  return {{"differing_parameters", differing}, {"trials", rows}};
}

nlohmann::json summary_json(const SweepSummary& sweep, const std::vector<TrialSummary>& trials) {
  double seconds = 0;
  uintmax_t state_bytes = 0, model_bytes = 0;
  const TrialSummary* best = nullptr;
  for (const auto& t : trials) {
    seconds += t.wall_seconds;
    if (!t.state_path.empty()) state_bytes += size_or_zero(t.state_path);
    if (!t.checkpoint.empty()) model_bytes += checkpoint_bytes(t.checkpoint);
    if (t.status != TrialStatus::kFinished || !t.objective) continue;
    if (!best ||
        (sweep.maximize ? *t.objective > *best->objective : *t.objective < *best->objective)) {
      best = &t;
    }
  }
  nlohmann::json out = {
      {"sweep", sweep.id},
      {"name", sweep.name},
      {"status", to_string(sweep.status)},
      {"method", sweep.method},
      {"metric", sweep.metric},
      {"goal", sweep.maximize ? "maximize" : "minimize"},
      {"planned_trials", sweep.planned_trials},
      {"trials_by_status", status_counts_json(sweep)},
      {"rank_hours", seconds / 3600.0},
      {"disk_bytes", {{"training_states", state_bytes}, {"best_models", model_bytes}}}};
  if (best)
    out["best"] = {{"trial", best->id}, {"value", *best->objective}, {"params", best->params}};
  return out;
}

std::string summary_text(const nlohmann::json& s) {
  std::string out = fmt::format("sweep {} \"{}\": {} ({}, {} {})\n", s["sweep"].get<int64_t>(),
                                s["name"].get<std::string>(), s["status"].get<std::string>(),
                                s["method"].get<std::string>(), s["goal"].get<std::string>(),
                                s["metric"].get<std::string>());
  std::string counts;
  for (const auto& [status, n] : s["trials_by_status"].items()) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n.get<int64_t>(), status);
  }
  out += fmt::format("  trials: {} (planned {})\n", counts.empty() ? "none" : counts,
                     s["planned_trials"].get<int64_t>());
  out += fmt::format("  compute: {:.3f} rank-hours (GPU-hours on a GPU cluster)\n",
                     s["rank_hours"].get<double>());
  const auto states = s["disk_bytes"]["training_states"].get<uintmax_t>(),
             models = s["disk_bytes"]["best_models"].get<uintmax_t>();
  out += fmt::format("  disk: {} (training states {}, best models {})\n",
                     megabytes(states + models), megabytes(states), megabytes(models));
  if (s.contains("best")) {
    const std::string params = params_text(s["best"]["params"]);
    out += fmt::format("  best: trial {} ({} = {:.4f}) {}\n", s["best"]["trial"].get<int64_t>(),
                       s["metric"].get<std::string>(), s["best"]["value"].get<double>(), params);
  }
  return out;
}

std::vector<std::string> export_sweep(const Reader& reader, const SweepSummary& sweep,
                                      const std::string& format, const std::string& directory) {
  if (format != "csv" && format != "json") {
    throw InputError(fmt::format("--format: expected csv or json, got \"{}\"", format));
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec || !fs::is_directory(directory)) {
    throw InputError(fmt::format("--out: cannot create directory {}: {}", directory, ec.message()));
  }
  const std::vector<TrialSummary> trials = reader.trials(sweep.id);
  std::vector<TrialDetail> details;
  for (const auto& t : trials) details.push_back(reader.trial(t.id));
  const fs::path dir(directory);
  if (format == "json") {
    nlohmann::json doc = {{"sweep", summary_json(sweep, trials)}, {"spec", sweep.spec}};
    doc["trials"] = nlohmann::json::array();
    for (const auto& d : details) doc["trials"].push_back(trial_json(d));
    write_file(dir / "sweep.json", json_text(doc, 2) + "\n");
    return {(dir / "sweep.json").string()};
  }
  std::vector<nlohmann::json> params;
  std::set<std::string> metric_set;
  for (const auto& t : trials) {
    params.push_back(t.params);
    for (const auto& [name, v] : t.metrics) metric_set.insert(name);
  }
  const std::vector<std::string> names = all_parameter_names(params);
  std::vector<std::string> header = {"trial",        "number",      "status", "epochs_completed",
                                     "wall_seconds", "param_count", "error"};
  for (const auto& n : names) header.push_back("param." + n);
  for (const auto& m : metric_set) header.push_back(m);
  std::string trials_csv = csv_row(header), epochs_csv = "trial,epoch,seconds,metric,value\n",
              confusion_csv = "trial,actual,predicted,count\n",
              per_class_csv = "trial,class,precision,recall,f1,support\n";
  for (const auto& d : details) {
    const auto& t = d.trial;
    std::vector<std::string> row = {std::to_string(t.id),
                                    std::to_string(t.number),
                                    to_string(t.status),
                                    std::to_string(t.epochs_completed),
                                    number(t.wall_seconds),
                                    std::to_string(t.param_count),
                                    t.error};
    for (const auto& n : names)
      row.push_back(t.params.contains(n) ? format_value(t.params[n]) : "");
    for (const auto& m : metric_set) {
      const auto it = t.metrics.find(m);
      row.push_back(it == t.metrics.end() ? "" : number(it->second));
    }
    trials_csv += csv_row(row);
    for (const auto& e : d.epochs) {
      for (const auto& [name, value] : e.values) {
        epochs_csv += csv_row({std::to_string(t.id), std::to_string(e.epoch), number(e.seconds),
                               name, number(value)});
      }
    }
    const size_t k = d.class_names.size();
    for (size_t a = 0; a < k && d.confusion.size() == k * k; ++a) {
      for (size_t p = 0; p < k; ++p) {
        confusion_csv += csv_row({std::to_string(t.id), d.class_names[a], d.class_names[p],
                                  std::to_string(d.confusion[a * k + p])});
      }
    }
    for (const auto& m : d.per_class) {
      per_class_csv += csv_row({std::to_string(t.id), m.name, number(m.precision), number(m.recall),
                                number(m.f1), std::to_string(m.support)});
    }
  }
  std::vector<std::string> written;
  for (const auto& [file, text] : {std::pair{"trials.csv", &trials_csv},
                                   {"epochs.csv", &epochs_csv},
                                   {"confusion.csv", &confusion_csv},
                                   {"per_class.csv", &per_class_csv}}) {
    write_file(dir / file, *text);
    written.push_back((dir / file).string());
  }
  return written;
}

}  // namespace fersweep::results
