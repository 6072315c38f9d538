#include "results/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "results/importance.h"
#include "results/pareto_front.h"
#include "results/svg.h"
#include "results/tables.h"
#include "results/views.h"

namespace fersweep::results {
namespace {

constexpr size_t kCurves = 5, kMatrices = 3;

// Everything the figures need, read once.
struct Figures {
  std::vector<TrialSummary> ranked;  // finished, best first
  std::vector<TrialDetail> top;      // details of the best kCurves
  std::vector<Importance> importance;
  std::string importance_note;
  std::vector<TrialDetail> population;  // PBT: every member, in trial order
  int epochs = 0;
};

// The params and metric of the trials that recorded it: what the importance forest fits.
struct ObjectivePoints {
  std::vector<nlohmann::json> params;
  std::vector<double> objective;
};

ObjectivePoints objective_points(const std::vector<TrialSummary>& trials,
                                 const std::string& metric) {
  ObjectivePoints points;
  for (const auto& t : trials) {
    if (!t.metrics.contains(metric)) continue;
    points.params.push_back(t.params);
    points.objective.push_back(t.metrics.at(metric));
  }
  return points;
}

Figures gather(const Reader& reader, const SweepSummary& sweep) {
  Figures f;
  f.ranked = reader.rank(sweep.id, sweep.metric, sweep.maximize, 1000000);
  for (size_t i = 0; i < std::min(kCurves, f.ranked.size()); ++i) {
    f.top.push_back(reader.trial(f.ranked[i].id));
  }
  const ObjectivePoints points = objective_points(f.ranked, sweep.metric);
  if (sweep.method == "pbt") {
    for (const auto& t : reader.trials(sweep.id)) f.population.push_back(reader.trial(t.id));
    f.epochs = sweep.spec.value("epochs", 5);
  }
  if (points.params.size() >= 4) {
    f.importance = parameter_importance(points.params, points.objective);
  } else {
    f.importance_note = "needs at least 4 finished trials";
  }
  return f;
}

std::string curves_svg(const Figures& f, const std::string& metric) {
  std::vector<svg::Series> series;
  for (const auto& d : f.top) {
    svg::Series s{fmt::format("trial {}", d.trial.id), {}, {}};
    for (const auto& e : d.epochs) {
      if (const auto v = e.value(metric)) s.x.push_back(e.epoch), s.y.push_back(*v);
    }
    series.push_back(std::move(s));
  }
  return svg::line_chart(series, "epoch", metric);
}

std::string f1_svg(const TrialDetail& d) {
  std::vector<std::string> labels;
  std::vector<double> values;
  for (const auto& m : d.per_class) labels.push_back(m.name), values.push_back(m.f1);
  return svg::bar_chart(labels, values, fmt::format("per-class F1, trial {}", d.trial.id));
}

std::string parallel_svg(const Figures& f, const SweepSummary& sweep) {
  const std::vector<std::string> names = varying_parameters(f.ranked);
  std::vector<svg::Axis> axes;
  for (const auto& name : names) {
    svg::Axis axis{name, true, {}, {}};
    for (const auto& t : f.ranked) {
      axis.numeric = axis.numeric && t.params.contains(name) && t.params[name].is_number();
    }
    for (const auto& t : f.ranked) {
      if (axis.numeric) {
        axis.numbers.push_back(t.params[name].get<double>());
      } else {
        axis.labels.push_back(t.params.contains(name) ? format_value(t.params[name]) : "-");
      }
    }
    axes.push_back(std::move(axis));
  }
  svg::Axis objective_axis{sweep.metric, true, {}, {}};
  std::vector<double> objective;
  for (const auto& t : f.ranked) {
    const auto it = t.metrics.find(sweep.metric);
    objective.push_back(it == t.metrics.end() ? 0.0 : it->second);
  }
  objective_axis.numbers = objective;
  axes.push_back(objective_axis);
  return svg::parallel_coordinates(axes, objective, sweep.maximize);
}

std::string lineage_svg(const Figures& f) {
  std::map<int64_t, size_t> row_of;
  for (const auto& d : f.population) row_of.emplace(d.trial.id, row_of.size());
  std::vector<svg::LineageRow> rows;
  for (const auto& d : f.population) {
    svg::LineageRow row{fmt::format("trial {}", d.trial.id), {}};
    for (const auto& r : d.schedule) {
      if (r.parent && row_of.contains(*r.parent))
        row.exploits.emplace_back(r.epoch, row_of.at(*r.parent));
    }
    rows.push_back(std::move(row));
  }
  return svg::lineage_chart(rows, f.epochs);
}

// One chart per numeric parameter that PBT changed: its value over epochs, per member (log10 for
// a positive parameter spanning over 20x).
std::vector<std::pair<std::string, std::string>> schedule_svgs(const Figures& f) {
  std::set<std::string> changed;
  for (const auto& d : f.population) {
    for (size_t i = 1; i < d.schedule.size(); ++i) {
      for (const auto& [name, value] : d.schedule[i].params.items()) {
        if (value.is_number() && d.schedule[i - 1].params.value(name, nlohmann::json()) != value)
          changed.insert(name);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> charts;
  for (const std::string& name : changed) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& d : f.population) {
      for (const auto& r : d.schedule) {
        if (!r.params.contains(name)) continue;
        lo = std::min(lo, r.params.at(name).get<double>());
        hi = std::max(hi, r.params.at(name).get<double>());
      }
    }
    const bool log = lo > 0 && hi / lo > 20;
    std::vector<svg::Series> series;
    for (const auto& d : f.population) {
      svg::Series s{fmt::format("trial {}", d.trial.id), {}, {}};
      for (size_t i = 0; i < d.schedule.size(); ++i) {
        if (!d.schedule[i].params.contains(name)) continue;
        const double v = d.schedule[i].params.at(name).get<double>();
        const int until =
            i + 1 < d.schedule.size() ? d.schedule[i + 1].epoch : d.trial.epochs_completed;
        for (const int epoch : {d.schedule[i].epoch, until}) {
          s.x.push_back(epoch);
          s.y.push_back(log ? std::log10(v) : v);
        }
      }
      series.push_back(std::move(s));
    }
    charts.emplace_back(name, svg::line_chart(series, "epoch", log ? "log10 " + name : name));
  }
  return charts;
}

std::string importance_svg(const Figures& f) {
  std::vector<std::string> labels;
  std::vector<double> values;
  for (const auto& i : f.importance) labels.push_back(i.parameter), values.push_back(i.share);
  return svg::bar_chart(labels, values, "parameter importance (share)");
}

const char* const kStyle = R"css(
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f4f4f4; } td.params { text-align: left; font-family: monospace; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
pre { background: #f7f7f7; padding: 12px; overflow-x: auto; font-size: 12px; }
.error { color: #a00; text-align: left; }
)css";

std::string leaderboard(const Figures& f, const SweepSummary& sweep) {
  const std::vector<std::string> names = varying_parameters(f.ranked);
  std::vector<std::string> metrics = {sweep.metric};
  for (const char* m : {"val_loss", "val_accuracy", "val_macro_f1", "test_accuracy"}) {
    if (m != sweep.metric && !f.ranked.empty() && f.ranked.front().metrics.contains(m)) {
      metrics.push_back(m);
    }
  }
  std::string out = "<table id=\"leaderboard\"><thead><tr><th>rank</th><th>trial</th>";
  for (const auto& m : metrics) out += "<th>" + markup_text(m) + "</th>";
  out +=
      "<th>epochs</th><th>time (s)</th><th "
      "style=\"text-align:left\">parameters</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < f.ranked.size(); ++i) {
    const auto& t = f.ranked[i];
    out += fmt::format("<tr class=\"trial-row\"><td>{}</td><td>{}</td>", i + 1, t.id);
    for (const auto& m : metrics) {
      const auto it = t.metrics.find(m);
      out += "<td>" +
             (it == t.metrics.end() ? std::string("-") : fmt::format("{:.4f}", it->second)) +
             "</td>";
    }
    const std::string params = params_text(t.params, names);
    out += fmt::format("<td>{}</td><td>{:.1f}</td><td class=\"params\">{}</td></tr>\n",
                       t.epochs_completed, t.wall_seconds, markup_text(params));
  }
  return out + "</tbody></table>\n";
}

}  // namespace

std::string html_report(const Reader& reader, const SweepSummary& sweep) {
  const Figures f = gather(reader, sweep);
  const std::vector<TrialSummary> all = reader.trials(sweep.id);
  const nlohmann::json summary = summary_json(sweep, all);
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>fersweep: {0}</title><style>{1}</style></head><body>\n<h1>Sweep {2} "
      "&ldquo;{0}&rdquo;</h1>\n"
      "<pre id=\"summary\">{3}</pre>\n",
      markup_text(sweep.name), kStyle, sweep.id, markup_text(summary_text(summary)));
  out += "<h2>Leaderboard</h2>\n" + leaderboard(f, sweep);
  if (!f.top.empty()) {
    out += fmt::format("<h2>Learning curves of the top {}</h2>\n<div class=\"figures\">",
                       f.top.size());
    out += curves_svg(f, sweep.metric);
    if (sweep.metric != "val_loss") out += curves_svg(f, "val_loss");
    out += "</div>\n<h2>Confusion matrices (validation)</h2>\n<div class=\"figures\">";
    for (size_t i = 0; i < std::min(kMatrices, f.top.size()); ++i) {
      const auto& d = f.top[i];
      if (d.confusion.size() == d.class_names.size() * d.class_names.size() &&
          !d.class_names.empty()) {
        out += svg::heatmap(d.class_names, d.confusion,
                            fmt::format("trial {} (rank {})", d.trial.id, i + 1));
      }
    }
    out += "</div>\n<h2>Per-class F1</h2>\n<div class=\"figures\">";
    for (size_t i = 0; i < std::min(kMatrices, f.top.size()); ++i) {
      if (!f.top[i].per_class.empty()) out += f1_svg(f.top[i]);
    }
    out += "</div>\n<h2>Parameters against the objective</h2>\n" + parallel_svg(f, sweep);
  }
  if (const auto objectives = sweep_objectives(sweep); objectives.size() > 1) {
    out +=
        "<h2>Pareto front</h2>\n<p>Every finished trial on two objectives at a time: the "
        "non-dominated ones in colour, joined, the dominated ones grey; then the hypervolume of "
        "the front after each trial (reference 1.1x beyond the worst of each objective).</p>\n"
        "<div class=\"figures\">";
    for (const auto& [name, chart] : pareto_figures(all, objectives)) out += chart;
    out += "</div>\n";
  }
  if (!f.population.empty()) {
    out +=
        "<h2>Population: lineage and schedules</h2>\n<p>Each row is a member; a dot marks "
        "where it loaded the training state of the member its dashed line comes from, then "
        "explored that member's parameters.</p>\n<div class=\"figures\">" +
        lineage_svg(f);
    for (const auto& [name, chart] : schedule_svgs(f)) out += chart;
    out += "</div>\n";
  }
  out += "<h2>Parameter importance</h2>\n";
  out +=
      f.importance.empty()
          ? "<p>" +
                markup_text(f.importance_note.empty() ? "no parameter varies" : f.importance_note) +
                "</p>\n"
          : "<p>Permutation importance on a random forest of the finished trials (out-of-bag "
            "error increase when a parameter is shuffled, as a share of the total).</p>\n" +
                importance_svg(f);
  for (const auto& [status, title, heading] :
       {std::tuple{TrialStatus::kFailed, "Failed trials", "error"},
        std::tuple{TrialStatus::kInfeasible, "Infeasible trials", "constraint broken"}}) {
    std::string rows;
    for (const auto& t : all) {
      if (t.status == status) {
        rows += fmt::format("<tr><td>{}</td><td class=\"error\">{}</td></tr>\n", t.id,
                            markup_text(t.error));
      }
    }
    if (!rows.empty()) {
      out +=
          fmt::format("<h2>{}</h2>\n<table><tr><th>trial</th><th>{}</th></tr>\n", title, heading) +
          rows + "</table>\n";
    }
  }
  out += "<h2>Sweep spec</h2>\n<pre id=\"spec\">" + markup_text(sweep.spec.dump(2)) + "</pre>\n";
  return out + "</body></html>\n";
}

std::string parallel_coordinates_svg(const Reader& reader, const SweepSummary& sweep, int limit) {
  Figures f;
  f.ranked = reader.rank(sweep.id, sweep.metric, sweep.maximize, limit);
  return parallel_svg(f, sweep);
}

std::string importance_svg(const std::vector<TrialSummary>& trials, const SweepSummary& sweep) {
  const ObjectivePoints points = objective_points(trials, sweep.metric);
  if (points.params.size() < 4) return "";
  Figures f;
  f.importance = parameter_importance(points.params, points.objective);
  return f.importance.empty() ? "" : importance_svg(f);
}

std::vector<std::string> write_plots(const Reader& reader, const SweepSummary& sweep,
                                     const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec || !fs::is_directory(directory)) {
    throw InputError(fmt::format("--out: cannot create directory {}: {}", directory, ec.message()));
  }
  const Figures f = gather(reader, sweep);
  if (f.ranked.empty())
    throw InputError(fmt::format("sweep {}: no finished trial to plot", sweep.id));
  std::vector<std::pair<std::string, std::string>> files = {
      {"learning_curves.svg", curves_svg(f, sweep.metric)},
      {"per_class_f1.svg", f.top.front().per_class.empty() ? "" : f1_svg(f.top.front())},
      {"parallel_coordinates.svg", parallel_svg(f, sweep)},
      {"importance.svg", f.importance.empty() ? "" : importance_svg(f)},
      {"lineage.svg", f.population.empty() ? "" : lineage_svg(f)}};
  for (const auto& [name, chart] : schedule_svgs(f)) {
    files.emplace_back(fmt::format("schedule_{}.svg", name), chart);
  }
  if (const auto objectives = sweep_objectives(sweep); objectives.size() > 1) {
    for (auto& figure : pareto_figures(reader.trials(sweep.id), objectives)) {
      files.push_back(std::move(figure));
    }
  }
  for (size_t i = 0; i < std::min(kMatrices, f.top.size()); ++i) {
    const auto& d = f.top[i];
    if (d.class_names.empty() || d.confusion.size() != d.class_names.size() * d.class_names.size())
      continue;
    files.emplace_back(
        fmt::format("confusion_{}.svg", d.trial.id),
        svg::heatmap(d.class_names, d.confusion, fmt::format("trial {}", d.trial.id)));
  }
  std::vector<std::string> written;
  for (const auto& [name, text] : files) {
    if (text.empty()) continue;
    const fs::path path = fs::path(directory) / name;
    std::ofstream out(path, std::ios::binary);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
    written.push_back(path.string());
  }
  return written;
}

}  // namespace fersweep::results
