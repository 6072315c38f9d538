#include "results/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "common/text.h"

namespace fersweep::results::svg {
namespace {

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string open_svg(int width, int height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" font-family=\"sans-serif\" font-size=\"11\">\n",
      width, height);
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start",
                 const char* extra = "") {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\"{}>{}</text>\n", x, y,
                     anchor, extra, markup_text(s));
}

std::string tick(double v) {
  return fmt::format("{:.3g}", v);
}

// Blue shade of a fraction in [0, 1].
std::string shade(double f) {
  const auto c = [&](int lo, int hi) { return static_cast<int>(std::lround(lo + (hi - lo) * f)); };
  return fmt::format("rgb({},{},{})", c(247, 8), c(251, 48), c(255, 107));
}

// A chart's plotting area: its frame, four ticks a side, the axis labels, and the mapping from
// data to pixels. A range of one value is widened to one unit.
struct PlotArea {
  double left, top, width, height, x0, x1, y0, y1;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * width; }
  double py(double y) const { return top + (1 - (y - y0) / (y1 - y0)) * height; }
};

PlotArea draw_plot_area(std::string& out, int width, int height, int left, int right, int top,
                        int bottom, double x0, double x1, double y0, double y1,
                        const std::string& x_label, const std::string& y_label) {
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const PlotArea a{static_cast<double>(left),
                   static_cast<double>(top),
                   static_cast<double>(width - left - right),
                   static_cast<double>(height - top - bottom),
                   x0,
                   x1,
                   y0,
                   y1};
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", left,
      top, a.width, a.height);
  for (int k = 0; k <= 4; ++k) {
    const double y = y0 + (y1 - y0) * k / 4;
    out += text(left - 4, a.py(y) + 4, tick(y), "end");
    const double x = x0 + (x1 - x0) * k / 4;
    out += text(a.px(x), top + a.height + 14, tick(x), "middle");
  }
  out += text(left + a.width / 2, height - 6, x_label, "middle");
  out += text(12, top + a.height / 2, y_label, "middle",
              fmt::format(" transform=\"rotate(-90 12 {:.1f})\"", top + a.height / 2).c_str());
  return a;
}

}  // namespace

std::string line_chart(const std::vector<Series>& series, const std::string& x_label,
                       const std::string& y_label) {
  constexpr int kW = 560, kH = 300, kLeft = 55, kRight = 150, kTop = 15, kBottom = 40;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  std::string out = open_svg(kW, kH);
  if (!std::isfinite(x0)) return out + text(kLeft, kH / 2.0, "no data") + "</svg>\n";
  const PlotArea area =
      draw_plot_area(out, kW, kH, kLeft, kRight, kTop, kBottom, x0, x1, y0, y1, x_label, y_label);
  const auto px = [&](double x) { return area.px(x); };
  const auto py = [&](double y) { return area.py(y); };
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const char* colour = kPalette[i % std::size(kPalette)];
    std::string points;
    for (size_t k = 0; k < s.x.size(); ++k)
      points += fmt::format("{:.1f},{:.1f} ", px(s.x[k]), py(s.y[k]));
    out +=
        fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
                    colour, points);
    const double ly = kTop + 12 + 14.0 * static_cast<double>(i);
    out += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"10\" height=\"3\" fill=\"{}\"/>\n",
                       kW - kRight + 10, ly - 4, colour);
    out += text(kW - kRight + 24, ly, s.name);
  }
  return out + "</svg>\n";
}

std::string heatmap(const std::vector<std::string>& names, const std::vector<int64_t>& counts,
                    const std::string& title) {
  const int k = static_cast<int>(names.size());
  constexpr int kCell = 42, kLeft = 80, kTop = 90;
  std::string out = open_svg(kLeft + k * kCell + 10, kTop + k * kCell + 30);
  out += text(kLeft, 14, title, "start", " font-weight=\"bold\"");
  out += text(kLeft + k * kCell / 2.0, kTop + k * kCell + 22, "predicted", "middle");
  for (int p = 0; p < k; ++p) {
    const double x = kLeft + p * kCell + kCell / 2.0;
    out += text(x, kTop - 6, names[p], "start",
                fmt::format(" transform=\"rotate(-45 {:.1f} {})\"", x, kTop - 6).c_str());
  }
  for (int a = 0; a < k; ++a) {
    int64_t row = 0;
    for (int p = 0; p < k; ++p) row += counts[a * k + p];
    out += text(kLeft - 4, kTop + a * kCell + kCell / 2.0 + 4, names[a], "end");
    for (int p = 0; p < k; ++p) {
      const int64_t n = counts[a * k + p];
      const double f = row > 0 ? static_cast<double>(n) / static_cast<double>(row) : 0.0;
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\"><title>"
          "{} as {}: {} ({:.1f} %)</title></rect>\n",
          kLeft + p * kCell, kTop + a * kCell, kCell, kCell, shade(f), markup_text(names[a]),
          markup_text(names[p]), n, 100 * f);
      out += text(kLeft + p * kCell + kCell / 2.0, kTop + a * kCell + kCell / 2.0 + 4,
                  std::to_string(n), "middle", f > 0.5 ? " fill=\"#fff\"" : "");
    }
  }
  return out + "</svg>\n";
}

std::string bar_chart(const std::vector<std::string>& labels, const std::vector<double>& values,
                      const std::string& title) {
  constexpr int kLeft = 120, kBar = 18, kWidth = 300, kTop = 24;
  const double top = std::max(1e-12, *std::max_element(values.begin(), values.end()));
  std::string out =
      open_svg(kLeft + kWidth + 60, kTop + static_cast<int>(labels.size()) * (kBar + 4) + 10);
  out += text(kLeft, 14, title, "start", " font-weight=\"bold\"");
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = kTop + static_cast<double>(i) * (kBar + 4);
    const double w = std::max(0.0, values[i]) / top * kWidth;
    out += text(kLeft - 4, y + kBar - 5, labels[i], "end");
    out += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"#4c78a8\"/>\n", kLeft, y,
        w, kBar);
    out += text(kLeft + w + 4, y + kBar - 5, fmt::format("{:.3f}", values[i]));
  }
  return out + "</svg>\n";
}

std::string parallel_coordinates(const std::vector<Axis>& axes,
                                 const std::vector<double>& objective, bool maximize) {
  constexpr int kGap = 110, kLeft = 50, kTop = 30, kHeight = 240;
  const int width = kLeft * 2 + kGap * static_cast<int>(std::max<size_t>(axes.size(), 1) - 1);
  std::string out = open_svg(width, kTop + kHeight + 30);
  if (objective.empty()) return out + "</svg>\n";
  // Each axis maps a trial to [0, 1], 1 at the top.
  std::vector<std::vector<double>> position(axes.size());
  for (size_t a = 0; a < axes.size(); ++a) {
    const Axis& axis = axes[a];
    const double x = kLeft + static_cast<double>(a) * kGap;
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>\n", x,
                       kTop, kTop + kHeight);
    out += text(x, kTop + kHeight + 18, axis.name, "middle", " font-weight=\"bold\"");
    if (axis.numeric) {
      const auto [lo_it, hi_it] = std::minmax_element(axis.numbers.begin(), axis.numbers.end());
      const double lo = *lo_it, hi = *hi_it;
      const bool log_scale = lo > 0 && hi / lo > 20;
      const auto f = [&](double v) { return log_scale ? std::log(v) : v; };
      for (const double v : axis.numbers) {
        position[a].push_back(hi > lo ? (f(v) - f(lo)) / (f(hi) - f(lo)) : 0.5);
      }
      out += text(x + 4, kTop + 4, tick(hi)) + text(x + 4, kTop + kHeight, tick(lo));
      if (log_scale) out += text(x + 4, kTop + kHeight / 2.0, "(log)");
    } else {
      std::map<std::string, int> index;
      for (const auto& l : axis.labels) index.emplace(l, 0);
      int i = 0;
      for (auto& [label, k] : index) k = i++;
      const double n = static_cast<double>(index.size());
      for (const auto& l : axis.labels) position[a].push_back(n > 1 ? index[l] / (n - 1) : 0.5);
      for (const auto& [label, k] : index) {
        out += text(x + 4, kTop + (1 - (n > 1 ? k / (n - 1) : 0.5)) * kHeight + 4, label);
      }
    }
  }
  const auto [lo_it, hi_it] = std::minmax_element(objective.begin(), objective.end());
  for (size_t t = 0; t < objective.size(); ++t) {
    double good = *hi_it > *lo_it ? (objective[t] - *lo_it) / (*hi_it - *lo_it) : 1.0;
    if (!maximize) good = 1 - good;
    std::string points;
    for (size_t a = 0; a < axes.size(); ++a) {
      points += fmt::format("{:.1f},{:.1f} ", kLeft + static_cast<double>(a) * kGap,
                            kTop + (1 - position[a][t]) * kHeight);
    }
    const int red = static_cast<int>(std::lround(200 * (1 - good))),
              green = static_cast<int>(std::lround(60 + 120 * good));
    out += fmt::format(
        "<polyline fill=\"none\" stroke=\"rgb({},{},80)\" stroke-opacity=\"{:.2f}\" "
        "stroke-width=\"1.5\" points=\"{}\"/>\n",
        red, green, 0.35 + 0.6 * good, points);
  }
  return out + "</svg>\n";
}

std::string lineage_chart(const std::vector<LineageRow>& rows, int epochs) {
  constexpr int kLeft = 80, kRight = 20, kTop = 20, kBottom = 36, kRow = 22, kWidth = 560;
  const int height = kTop + kBottom + kRow * static_cast<int>(std::max<size_t>(rows.size(), 1));
  std::string out = open_svg(kWidth, height);
  const double pw = kWidth - kLeft - kRight;
  const auto px = [&](double epoch) { return kLeft + epoch / std::max(epochs, 1) * pw; };
  const auto py = [&](size_t row) { return kTop + kRow * (static_cast<double>(row) + 0.5); };
  for (int k = 0; k <= 4; ++k) {
    const double epoch = epochs * k / 4.0;
    out += text(px(epoch), height - kBottom + 14, tick(epoch), "middle");
  }
  out += text(kLeft + pw / 2, height - 6, "epoch", "middle");
  for (size_t r = 0; r < rows.size(); ++r) {
    const char* colour = kPalette[r % std::size(kPalette)];
    out += text(kLeft - 6, py(r) + 4, rows[r].name, "end");
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2\"/>\n",
        px(0), py(r), px(epochs), py(r), colour);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    for (const auto& [epoch, parent] : rows[r].exploits) {
      if (parent >= rows.size()) continue;
      out += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\" "
          "stroke-dasharray=\"3,2\"><title>{3} loads {4} after epoch {5}</title></line>\n"
          "<circle cx=\"{0:.1f}\" cy=\"{2:.1f}\" r=\"3.5\" fill=\"#333\"/>\n",
          px(epoch), py(parent), py(r), markup_text(rows[r].name), markup_text(rows[parent].name),
          epoch);
    }
  }
  return out + "</svg>\n";
}

std::string pareto_scatter(const std::vector<double>& x, const std::vector<double>& y,
                           const std::vector<bool>& on_front, const std::vector<std::string>& names,
                           const std::string& x_label, const std::string& y_label) {
  constexpr int kW = 420, kH = 320, kLeft = 60, kRight = 20, kTop = 15, kBottom = 40;
  std::string out = open_svg(kW, kH);
  if (x.empty()) return out + text(kLeft, kH / 2.0, "no data") + "</svg>\n";
  const PlotArea area = draw_plot_area(
      out, kW, kH, kLeft, kRight, kTop, kBottom, *std::min_element(x.begin(), x.end()),
      *std::max_element(x.begin(), x.end()), *std::min_element(y.begin(), y.end()),
      *std::max_element(y.begin(), y.end()), x_label, y_label);
  const auto px = [&](double v) { return area.px(v); };
  const auto py = [&](double v) { return area.py(v); };
  std::vector<size_t> front;
  for (size_t i = 0; i < x.size(); ++i) {
    if (on_front[i]) {
      front.push_back(i);
      continue;
    }
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"#bbb\"/>\n", px(x[i]),
                       py(y[i]));
  }
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::string line;
  for (size_t i : front) line += fmt::format("{:.1f},{:.1f} ", px(x[i]), py(y[i]));
  out += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1\" points=\"{}\"/>\n",
                     kPalette[0], line);
  for (size_t i : front) {
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", px(x[i]),
                       py(y[i]), kPalette[0]);
    if (i < names.size()) out += text(px(x[i]) + 5, py(y[i]) - 5, names[i]);
  }
  return out + "</svg>\n";
}

}  // namespace fersweep::results::svg
