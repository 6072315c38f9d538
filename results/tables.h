#pragma once
// Human tables (80 columns) and JSON documents for the results CLI.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/queries.h"

namespace fersweep::results {

// The database's sweeps, with their finished trials.
std::string sweeps_table(const std::vector<SweepSummary>& sweeps);
nlohmann::json sweeps_json(const std::vector<SweepSummary>& sweeps);

// A sweep's trials counted by status: {"finished": 8, "failed": 2}, or "8 finished, 2 failed".
nlohmann::json status_counts_json(const SweepSummary& sweep);
std::string status_counts_text(const SweepSummary& sweep);

std::string rank_table(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                       const std::string& metric);
nlohmann::json rank_json(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                         const std::string& metric);

// `normalize`: confusion-matrix rows as fractions of their actual class.
std::string trial_text(const TrialDetail& detail, bool normalize = false);
nlohmann::json trial_json(const TrialDetail& detail);

// Parameters whose value differs between the trials (all of them for a single trial): what a
// ranking or a list is about.
std::vector<std::string> varying_parameters(const std::vector<TrialSummary>& trials);

// "name=value" pairs, space-separated, for the names the parameters hold (all when `names` is
// empty).
std::string params_text(const nlohmann::json& params, const std::vector<std::string>& names = {});

// The last column of a table row that starts `indent` characters in: words of `text` wrapped
// onto indented continuation lines, so that rows stay within 80 columns.
std::string wrap_column(const std::string& text, size_t indent);

// A parameter value the way a person writes it: 0.001, [32,64], "adam" -> adam.
std::string format_value(const nlohmann::json& value);

}  // namespace fersweep::results
