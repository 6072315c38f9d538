#pragma once
// Human tables (80 columns) and JSON documents for the results CLI.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/queries.h"

namespace fersweep::results {

std::string rank_table(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                       const std::string& metric);
nlohmann::json rank_json(const SweepSummary& sweep, const std::vector<TrialSummary>& ranked,
                         const std::string& metric);

std::string trial_text(const TrialDetail& detail);
nlohmann::json trial_json(const TrialDetail& detail);

// A parameter value the way a person writes it: 0.001, [32,64], "adam" -> adam.
std::string format_value(const nlohmann::json& value);

}  // namespace fersweep::results
