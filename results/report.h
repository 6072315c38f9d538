#pragma once
// The sweep as one self-contained HTML page (inline CSS and SVG, no script, no network), and
// the same figures as standalone SVG files for papers.
#include <string>
#include <vector>

#include "results/queries.h"

namespace fersweep::results {

std::string html_report(const Reader& reader, const SweepSummary& sweep);

// learning_curves.svg, confusion_<trial>.svg (top 3), per_class_f1.svg, parallel_coordinates.svg
// and importance.svg (when there are enough trials) in `directory`. Returns the paths written.
std::vector<std::string> write_plots(const Reader& reader, const SweepSummary& sweep,
                                     const std::string& directory);

// The report's parameters-against-objective figure over the best `limit` finished trials, for
// the live dashboard (which must not load a 100,000-trial sweep per request).
std::string parallel_coordinates_svg(const Reader& reader, const SweepSummary& sweep, int limit);

// The report's parameter-importance figure over these trials (those without the sweep's metric
// are left out); empty when fewer than 4 have it.
std::string importance_svg(const std::vector<TrialSummary>& trials, const SweepSummary& sweep);

}  // namespace fersweep::results
