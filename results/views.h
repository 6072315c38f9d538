#pragma once
// More views of a sweep for the results CLI: filtered lists, side-by-side comparison, a summary,
// and the CSV/JSON export. Each has a text form for an 80-column terminal and a JSON form.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/queries.h"

namespace fersweep::results {

std::string list_table(const std::vector<TrialSummary>& trials, const std::string& metric);
nlohmann::json list_json(const std::vector<TrialSummary>& trials);

// Parameters side by side (a `*` marks those that differ), final metrics, and per-class F1 with
// the change against the first trial.
std::string compare_text(const std::vector<TrialDetail>& trials);
nlohmann::json compare_json(const std::vector<TrialDetail>& trials);

// Counts by status, the best trial, and compute time: the trials' wall time summed, each trial
// holding one training rank (one GPU on a GPU node).
nlohmann::json summary_json(const SweepSummary& sweep, const std::vector<TrialSummary>& trials);
std::string summary_text(const nlohmann::json& summary);

// Writes trials, epochs, confusion and per_class tables of a sweep into `directory`: as four
// .csv files, or as one sweep.json. Returns the paths written.
std::vector<std::string> export_sweep(const Reader& reader, const SweepSummary& sweep,
                                      const std::string& format, const std::string& directory);

}  // namespace fersweep::results
