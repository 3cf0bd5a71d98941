// The report's charts: line, step and scatter charts (a left and an optional right axis, a linear
// or log x axis) and horizontal bar charts, written as self-contained inline SVG. All chart drawing
// of nas_report and of the search plots lives here.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fusenas::nas::report {

// Maps data values in [lo, hi] linearly onto pixels [px_lo, px_hi] (px_hi < px_lo for a y axis,
// whose pixels grow downwards); with `log`, log10 of the values (lo, hi and v > 0).
struct Scale {
  double lo = 0, hi = 1, px_lo = 0, px_hi = 1;
  bool log = false;
  double operator()(double v) const;
};

// Round tick values (1, 2 or 5 times a power of ten, at least min_step apart) covering [lo, hi];
// the first and last tick enclose the data, so they become the y axis limits.
std::vector<double> nice_ticks(double lo, double hi, int approx_count = 5, double min_step = 0);

// kStep holds each value until the next x (a best-so-far curve); kPoints draws markers only.
enum class SeriesStyle { kLine, kStep, kPoints };

struct Series {
  std::string name;
  std::vector<double> x,
      y;  // same length; non-finite points (and x <= 0 on a log axis) are left out
  bool right_axis = false;  // drawn dashed against the right axis
  SeriesStyle style = SeriesStyle::kLine;
};

struct LineChart {
  LineChart() = default;
  LineChart(std::string t, std::string x, std::string y, std::string y2 = {})
      : title(std::move(t)),
        x_label(std::move(x)),
        y_label(std::move(y)),
        y2_label(std::move(y2)) {}
  std::string title;
  std::string x_label, y_label, y2_label;  // axis titles with units, e.g. "accuracy (%)"
  std::vector<Series> series;
  int width = 640, height = 300;
  bool legend = true;  // small multiples share one legend drawn apart (svg_legend)
  bool y_from_zero = false;
  bool log_x = false;  // powers of ten as ticks; for values spanning decades (parameter counts)
};

struct BarChart {
  BarChart(std::string t, std::string x) : title(std::move(t)), x_label(std::move(x)) {}
  std::string title, x_label;
  std::vector<std::string> labels;
  std::vector<double> values;
  int width = 480;
};

// Geometry of a line chart's plot area, exposed so tests can check where points land.
struct PlotArea {
  Scale x, y, y2;
};
PlotArea line_chart_area(const LineChart& chart);

std::string svg_line_chart(const LineChart& chart);
std::string svg_bar_chart(const BarChart& chart);
// A legend alone: one coloured line per name, in the colours line charts give their series.
std::string svg_legend(const std::vector<std::string>& names, int width = 640);
// Its height, for placing it under charts drawn apart.
int svg_legend_height(const std::vector<std::string>& names, int width = 640);
// The i-th colour of the palette (colour-blind safe, distinguishable in grey print by dashes).
const char* series_color(size_t i);
// Text made safe for HTML and SVG content and attributes.
std::string escape_xml(const std::string& text);

}  // namespace fusenas::nas::report
