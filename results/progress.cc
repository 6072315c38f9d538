#include "results/progress.h"

#include <cmath>
#include <cstdint>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <fmt/format.h>

namespace fersweep::results {
namespace {

// created_at is UTC, "2026-12-02T13:47:52Z"; nothing when it does not parse.
std::optional<double> seconds_since(const std::string& utc) {
  std::tm tm{};
  std::istringstream in(utc);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

}  // namespace

Progress read_progress(const Reader& reader, int64_t sweep_id) {
  Progress p;
  p.sweep = reader.sweep(sweep_id);
  const auto best = reader.rank(sweep_id, p.sweep.metric, p.sweep.maximize, 1);
  if (!best.empty()) p.best = best.front();
  p.busy_workers = reader.busy_workers(sweep_id);
  p.elapsed_seconds = seconds_since(p.sweep.created_at).value_or(0);
  return p;
}

std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, std::round(seconds)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
}

std::string progress_text(const Progress& p, int workers) {
  const SweepSummary& s = p.sweep;
  std::string counts;
  for (const TrialStatus status :
       {TrialStatus::kFinished, TrialStatus::kRunning, TrialStatus::kPaused, TrialStatus::kPruned,
        TrialStatus::kFailed, TrialStatus::kInfeasible, TrialStatus::kInterrupted}) {
    const int64_t n = s.trials_with_status(status);
    if (n > 0 || status == TrialStatus::kFinished || status == TrialStatus::kRunning) {
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, to_string(status));
    }
  }
  std::string out = fmt::format(
      "trials: {}{}", counts, s.planned_trials > 0 ? fmt::format(" of {}", s.planned_trials) : "");
  if (p.best) {
    const auto it = p.best->metrics.find(s.metric);
    if (it != p.best->metrics.end()) {
      out += fmt::format(" | best {} {:.4f} (trial {})", s.metric, it->second, p.best->id);
    }
  }
  out += "\nworkers: " + fmt::format("{} busy", p.busy_workers);
  if (workers > 0) out += fmt::format(", {} idle", std::max<int64_t>(0, workers - p.busy_workers));
  if (s.status == SweepStatus::kRunning) {
    out += " | " + duration_text(p.elapsed_seconds) + " elapsed";
  }
  const int64_t ended = s.trials_with_status(TrialStatus::kFinished) +
                        s.trials_with_status(TrialStatus::kPruned) +
                        s.trials_with_status(TrialStatus::kFailed);
  if (s.status == SweepStatus::kRunning && s.planned_trials > 0 && ended > 0 &&
      ended < s.planned_trials) {
    const double per_trial = p.elapsed_seconds / static_cast<double>(ended);
    out += ", ETA " + duration_text(per_trial * static_cast<double>(s.planned_trials - ended));
  } else if (s.status != SweepStatus::kRunning) {
    out += " | sweep " + to_string(s.status);
  }
  return out;
}

}  // namespace fersweep::results
