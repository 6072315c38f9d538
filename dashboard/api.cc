#include "dashboard/api.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_reader.h"
#include "dashboard/page.h"
#include "results/queries.h"
#include "results/report.h"
#include "results/svg.h"
#include "results/tables.h"
#include "results/views.h"

namespace fersweep::dashboard {
namespace {

using Json = nlohmann::json;

// Names change rarely (a metric appears when the first trial ends), and reading them scans the
// sweep (0.2 s at 100,000 trials): kept 30 s once the sweep has metrics, 2 s before.
constexpr auto kNamesLifetime = std::chrono::seconds(30),
               kEarlyNamesLifetime = std::chrono::seconds(2);
constexpr auto kOrderLifetime = std::chrono::seconds(1);
constexpr size_t kKeptOrders = 64;
constexpr int kDefaultPage = 50, kLargestPage = 500, kParallelTrials = 500;
constexpr size_t kImportanceTrials = 1000;
// The importance fits a forest of 200 trees; the parallel coordinates only
// read the best 500, and should not look older than the leaderboard beside them.
constexpr auto kImportanceLifetime = std::chrono::seconds(10),
               kParallelLifetime = std::chrono::seconds(1);

// Names from files and exceptions may hold bytes that are not UTF-8: replaced, never a throw.
Reply json_reply(const Json& body, int status = 200) {
  return {status, "application/json", json_text(body)};
}

Reply error_reply(int status, const std::string& message) {
  return json_reply({{"error", message}}, status);
}

Reply svg_reply(std::string svg) {
  return {200, "image/svg+xml", std::move(svg)};
}

std::vector<std::string> segments_of(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<int64_t> id_of(const std::string& text) {
  int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::string query_value(const Request& r, const std::string& key, const std::string& fallback) {
  const auto it = r.query.find(key);
  return it == r.query.end() ? fallback : it->second;
}

// A whole number in [lo, hi] from the query, or InputError naming the parameter.
int64_t query_number(const Request& r, const std::string& key, int64_t fallback, int64_t lo,
                     int64_t hi) {
  const auto it = r.query.find(key);
  if (it == r.query.end()) return fallback;
  int64_t value = 0;
  const std::string& text = it->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    throw InputError(fmt::format("{}: expected a whole number in [{}, {}]", key, lo, hi));
  }
  return value;
}

Json trial_row(const results::TrialSummary& t) {
  return {{"trial", t.id},
          {"number", t.number},
          {"status", to_string(t.status)},
          {"error", t.error},
          {"epochs_completed", t.epochs_completed},
          {"worker_rank", t.worker_rank ? Json(*t.worker_rank) : Json()},
          {"params", t.params},
          {"metrics", t.metrics}};
}

}  // namespace

Api::Api(std::string db_path) : db_path_(std::move(db_path)) {}

Api::Names Api::names_of(int64_t sweep_id) {
  const auto fresh = [&]() -> std::optional<Names> {
    std::lock_guard<std::mutex> lock(names_mutex_);
    const auto it = names_.find(sweep_id);
    if (it == names_.end()) return std::nullopt;
    const auto lifetime = it->second.metrics.empty() ? kEarlyNamesLifetime : kNamesLifetime;
    if (std::chrono::steady_clock::now() - it->second.read_at >= lifetime) return std::nullopt;
    return it->second;
  };
  if (auto names = fresh()) return *names;
  std::lock_guard<std::mutex> computing(computing_mutex_);
  if (auto names = fresh()) return *names;
  const results::Reader reader(db_path_);
  Names read{reader.parameter_names(sweep_id), reader.metric_names(sweep_id),
             std::chrono::steady_clock::now()};
  std::lock_guard<std::mutex> lock(names_mutex_);
  names_[sweep_id] = read;
  return read;
}

std::shared_ptr<const std::vector<int64_t>> Api::ordered_ids(int64_t sweep_id,
                                                             const std::string& where,
                                                             const std::string& sort,
                                                             bool descending) {
  const std::string key =
      fmt::format("{}\n{}\n{}\n{}", sweep_id, sort, descending ? "desc" : "asc", where);
  const auto fresh = [&]() -> std::shared_ptr<const std::vector<int64_t>> {
    std::lock_guard<std::mutex> lock(orders_mutex_);
    const auto it = orders_.find(key);
    if (it == orders_.end() ||
        std::chrono::steady_clock::now() - it->second.computed_at >= kOrderLifetime) {
      return nullptr;
    }
    return it->second.ids;
  };
  if (auto ids = fresh()) return ids;
  const Names names = names_of(sweep_id);
  // One computation at a time: the requests that waited for it find it fresh.
  std::lock_guard<std::mutex> computing(computing_mutex_);
  if (auto ids = fresh()) return ids;
  const results::Reader reader(db_path_);
  auto ids = std::make_shared<const std::vector<int64_t>>(reader.ordered_trial_ids(
      sweep_id, where, sort == "number" ? "" : sort, descending, names.parameters, names.metrics));
  std::lock_guard<std::mutex> lock(orders_mutex_);
  if (orders_.size() >= kKeptOrders) {
    auto oldest = orders_.begin();
    for (auto it = orders_.begin(); it != orders_.end(); ++it) {
      if (it->second.computed_at < oldest->second.computed_at) oldest = it;
    }
    orders_.erase(oldest);
  }
  orders_[key] = {ids, std::chrono::steady_clock::now()};
  return ids;
}

std::string Api::figure(const std::string& key, std::chrono::steady_clock::duration lifetime,
                        const std::function<std::string()>& draw) {
  // Drawn under the lock: the clients that asked meanwhile take the fresh one.
  std::lock_guard<std::mutex> lock(figures_mutex_);
  const auto now = std::chrono::steady_clock::now();
  const auto it = figures_.find(key);
  if (it != figures_.end() && now - it->second.first < lifetime) return it->second.second;
  std::string drawn = draw();
  figures_[key] = {now, drawn};
  return drawn;
}

Reply Api::answer(const Request& request) {
  const std::vector<std::string> at = segments_of(request.path);
  if (at.empty() || (at.size() == 1 && at[0] == "index.html")) {
    return {200, "text/html; charset=utf-8", page_html()};
  }
  try {
    const results::Reader reader(db_path_);
    if (at[0] == "api" && at.size() == 2 && at[1] == "sweeps") {
      return json_reply(results::sweeps_json(reader.sweeps()));
    }
    if ((at[0] == "api" || at[0] == "svg") && at.size() >= 3 && at[1] == "sweeps") {
      const std::optional<int64_t> id = id_of(at[2]);
      const bool summary = at[0] == "api" && at.size() == 3;
      const std::optional<results::SweepSummary> sweep =
          id ? reader.find_sweep(*id, summary) : std::nullopt;
      if (!sweep) return error_reply(404, "no sweep " + at[2]);
      if (summary) {
        const Names names = names_of(sweep->id);
        Json body = results::sweeps_json({*sweep}).at(0);
        body["goal"] = sweep->maximize ? "maximize" : "minimize";
        body["parameters"] = names.parameters;
        body["metrics"] = names.metrics;
        const auto best = reader.rank(sweep->id, sweep->metric, sweep->maximize, 1);
        body["best"] = best.empty() ? Json() : trial_row(best.front());
        return json_reply(body);
      }
      if (at[0] == "api" && at.size() == 4 && at[3] == "trials") {
        const Names names = names_of(sweep->id);
        const std::string sort = query_value(request, "sort", sweep->metric);
        const std::string order = query_value(request, "order", sweep->maximize ? "desc" : "asc");
        if (sort != "number" && !names.metrics.empty() &&
            std::find(names.metrics.begin(), names.metrics.end(), sort) == names.metrics.end()) {
          return error_reply(400, "sort: no trial recorded the metric \"" + sort + "\"");
        }
        if (order != "asc" && order != "desc") {
          return error_reply(400, "order: expected asc or desc");
        }
        const int limit =
            static_cast<int>(query_number(request, "limit", kDefaultPage, 1, kLargestPage));
        const int64_t offset = query_number(request, "offset", 0, 0, INT64_MAX / 2);
        const auto ids =
            ordered_ids(sweep->id, query_value(request, "where", ""), sort, order == "desc");
        const auto total = static_cast<int64_t>(ids->size());
        const auto from = ids->begin() + std::min(offset, total);
        const auto to = ids->begin() + std::min(offset + limit, total);
        Json rows = Json::array();
        for (const auto& t : reader.trials_by_id(std::vector<int64_t>(from, to))) {
          rows.push_back(trial_row(t));
        }
        return json_reply(
            {{"total", total}, {"offset", offset}, {"limit", limit}, {"trials", rows}});
      }
      if (at[0] == "svg" && at.size() == 4 && at[3] == "importance.svg") {
        std::string drawn =
            figure(fmt::format("importance {}", sweep->id), kImportanceLifetime, [&] {
              // A forest over every finished trial of a large sweep would take seconds: an even
              // sample of at most 1,000, by number.
              const auto finished = ordered_ids(sweep->id, "status = finished", "number", false);
              const size_t step = std::max<size_t>(1, finished->size() / kImportanceTrials);
              std::vector<int64_t> sample;
              for (size_t i = 0; i < finished->size(); i += step) sample.push_back((*finished)[i]);
              return results::importance_svg(reader.trials_by_id(sample), *sweep);
            });
        if (drawn.empty()) return error_reply(404, "importance needs 4 finished trials");
        return svg_reply(std::move(drawn));
      }
      if (at[0] == "svg" && at.size() == 4 && at[3] == "parallel.svg") {
        return svg_reply(figure(fmt::format("parallel {}", sweep->id), kParallelLifetime, [&] {
          return results::parallel_coordinates_svg(reader, *sweep, kParallelTrials);
        }));
      }
      return error_reply(404, "no such route: " + request.path);
    }
    if ((at[0] == "api" || at[0] == "svg") && at.size() >= 3 && at[1] == "trials") {
      const std::optional<int64_t> id = id_of(at[2]);
      std::optional<results::TrialDetail> detail;
      if (id) {
        try {
          detail = reader.trial(*id);
        } catch (const InputError&) {  // no such trial
        }
      }
      if (!detail) return error_reply(404, "no trial " + at[2]);
      if (at[0] == "api" && at.size() == 3) return json_reply(results::trial_json(*detail));
      if (at[0] == "svg" && at.size() == 4 && at[3] == "curves.svg") {
        const std::string metric = query_value(request, "metric", "val_accuracy");
        results::svg::Series series{fmt::format("trial {}", detail->trial.id), {}, {}};
        for (const auto& e : detail->epochs) {
          if (const auto v = e.value(metric)) series.x.push_back(e.epoch), series.y.push_back(*v);
        }
        return svg_reply(results::svg::line_chart({series}, "epoch", metric));
      }
      if (at[0] == "svg" && at.size() == 4 && at[3] == "confusion.svg") {
        const size_t k = detail->class_names.size();
        if (k == 0 || detail->confusion.size() != k * k) {
          return error_reply(404, "trial " + at[2] + " has no confusion matrix yet");
        }
        return svg_reply(results::svg::heatmap(detail->class_names, detail->confusion,
                                               fmt::format("trial {}", detail->trial.id)));
      }
    }
  } catch (const InputError& e) {
    return error_reply(400, e.what());
  }
  return error_reply(404, "no such route: " + request.path);
}

}  // namespace fersweep::dashboard
