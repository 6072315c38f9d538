#pragma once
// Charts as standalone SVG text, for the HTML report and `results plot`. Every label passes
// through markup_text (common/text.h), so names from a spec or a database can neither inject
// markup nor make the document ill-formed XML.
#include <cstdint>
#include <string>
#include <vector>

namespace fersweep::results::svg {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Lines over a shared x axis (e.g. a metric per epoch, one series per trial).
std::string line_chart(const std::vector<Series>& series, const std::string& x_label,
                       const std::string& y_label);

// A k x k matrix of counts as a heatmap, shaded by each row's fraction, counts written in cells.
std::string heatmap(const std::vector<std::string>& names, const std::vector<int64_t>& counts,
                    const std::string& title);

// Horizontal bars, one per label, values in [0, max(values)].
std::string bar_chart(const std::vector<std::string>& labels, const std::vector<double>& values,
                      const std::string& title);

// One vertical axis per parameter plus the objective, one polyline per trial, coloured by the
// objective. Numeric axes are linear (log when positive and spanning over 20x); others are
// categorical. `values[t][a]` is trial t's value on axis a, as text for categorical axes.
struct Axis {
  std::string name;
  bool numeric = true;
  std::vector<double> numbers;      // per trial (numeric axes)
  std::vector<std::string> labels;  // per trial (categorical axes)
};
std::string parallel_coordinates(const std::vector<Axis>& axes,
                                 const std::vector<double>& objective, bool maximize);

// Trials on two objectives: the non-dominated ones (`on_front`) coloured and joined in order of
// x, the dominated ones grey. `names` label the front's points.
std::string pareto_scatter(const std::vector<double>& x, const std::vector<double>& y,
                           const std::vector<bool>& on_front, const std::vector<std::string>& names,
                           const std::string& x_label, const std::string& y_label);

// A population's family tree over epochs (Population Based Training): one row per member, and at
// each exploit a link from the parent's row to the member that loaded its state.
struct LineageRow {
  std::string name;
  std::vector<std::pair<int, size_t>> exploits;  // (epoch, parent's row)
};
std::string lineage_chart(const std::vector<LineageRow>& rows, int epochs);

}  // namespace fersweep::results::svg
