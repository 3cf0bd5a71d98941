// Line, step, scatter and bar charts as inline SVG for nas_report and the search plots: axes with
// round ticks, a second axis for the lr, a log x axis, legends, and nothing a page would fetch.
#include "fusenas/nas/report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fusenas::nas::report {
namespace {

constexpr int kLeft = 60, kRightAxis = 64, kRightPlain = 16, kTop = 30, kBottom = 42;
constexpr int kLegendRow = 18;
// Solid lines first; later series add dashes so that they stay apart in grey print.
constexpr const char* kDashes[] = {"", "", "", "", "6 3", "2 2", "8 3 2 3", "1 3"};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
  // A flat range still needs a width to draw against.
  Range widened(bool log = false) const {
    if (empty()) return log ? Range{1, 10} : Range{0, 1};
    if (hi > lo) return *this;
    if (log) return Range{lo / 2, hi * 2};
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.5;
    return Range{lo - pad, hi + pad};
  }
};

bool drawable(const LineChart& chart, double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && (!chart.log_x || x > 0);
}

// Ticks of a log axis: the powers of ten inside [lo, hi], with 2 and 5 times them when fewer than
// three powers fall inside; round linear ticks when not even two of those do.
std::vector<double> log_ticks(double lo, double hi) {
  const auto inside = [&](double t) { return t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9); };
  const int e_lo = static_cast<int>(std::floor(std::log10(lo)));
  const int e_hi = static_cast<int>(std::ceil(std::log10(hi)));
  std::vector<double> ticks;
  for (const auto& steps : {std::vector<double>{1}, std::vector<double>{1, 2, 5}}) {
    ticks.clear();
    for (int e = e_lo; e <= e_hi; ++e) {
      for (double m : steps) {
        if (inside(m * std::pow(10.0, e))) ticks.push_back(m * std::pow(10.0, e));
      }
    }
    if (ticks.size() >= 3) return ticks;
  }
  if (ticks.size() >= 2) return ticks;
  ticks.clear();
  for (double t : nice_ticks(lo, hi, 3)) {
    if (inside(t)) ticks.push_back(t);
  }
  return ticks;
}

// 120000 -> "120k", 3e6 -> "3M": parameter counts read at a glance.
std::string si_text(double v) {
  const char* suffix[] = {"", "k", "M", "G"};
  int i = 0;
  while (i < 3 && std::abs(v) >= 1000) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:g}{}", v, suffix[i]);
}

std::string tick_text(double v) {
  if (std::abs(v) < 1e-12) return "0";
  return fmt::format("{:g}", v);
}

// Tick labels with as many decimals as their spacing needs ({:g} alone prints 11.3258 for both
// 11.32580 and 11.32582).
std::vector<std::string> tick_texts(const std::vector<double>& ticks) {
  std::vector<std::string> out;
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 0;
  const bool wide = step <= 0 || std::abs(ticks.back()) / step < 1e4;
  const int decimals =
      step > 0 ? std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))) : 0;
  for (double t : ticks) out.push_back(wide ? tick_text(t) : fmt::format("{:.{}f}", t, decimals));
  return out;
}

// Rows the legend needs when its items start at x0 (the same wrapping as legend_items).
int legend_rows(const std::vector<std::string>& names, int width, int x0 = kLeft) {
  int rows = names.empty() ? 0 : 1, x = x0;
  for (const auto& n : names) {
    const int w = 34 + 7 * static_cast<int>(n.size());
    if (x > x0 && x + w > width - 8) {
      ++rows;
      x = x0;
    }
    x += w;
  }
  return rows;
}

// Legend items laid out in rows from (x0, y0); returns the SVG elements. A scatter's series shows
// a marker instead of a line.
std::string legend_items(const std::vector<std::string>& names, const std::vector<bool>& dashed,
                         int x0, int y0, int width, const std::vector<bool>& markers = {}) {
  std::string out;
  int x = x0, y = y0;
  for (size_t i = 0; i < names.size(); ++i) {
    const int w = 34 + 7 * static_cast<int>(names[i].size());
    if (x > x0 && x + w > width - 8) {
      x = x0;
      y += kLegendRow;
    }
    const char* dash = dashed[i] ? "6 3" : kDashes[i % 8];
    if (i < markers.size() && markers[i]) {
      out +=
          fmt::format("<circle cx='{}' cy='{}' r='4' fill='{}'/>", x + 12, y - 4, series_color(i));
    } else {
      out += fmt::format(
          "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='{}' stroke-width='2.5' "
          "stroke-dasharray='{}'/>",
          x, y - 4, x + 24, y - 4, series_color(i), dash);
    }
    out += fmt::format("<text x='{}' y='{}'>{}</text>", x + 28, y, escape_xml(names[i]));
    x += w;
  }
  return out;
}

std::string svg_open(int width, int height, const std::string& title) {
  return fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {0} {1}' width='{0}' "
      "height='{1}' role='img' font-family='sans-serif' font-size='11'><title>{2}</title>",
      width, height, escape_xml(title));
}

}  // namespace

double Scale::operator()(double v) const {
  if (hi == lo) return (px_lo + px_hi) / 2;
  if (log) {
    return px_lo + std::log10(v / lo) / std::log10(hi / lo) * (px_hi - px_lo);
  }
  return px_lo + (v - lo) / (hi - lo) * (px_hi - px_lo);
}

std::vector<double> nice_ticks(double lo, double hi, int approx_count, double min_step) {
  if (!(hi > lo)) return {lo};
  const double raw = std::max((hi - lo) / std::max(1, approx_count), min_step);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(lo / step + 1e-9) * step;
  for (double t = first; t < hi + step * (1 - 1e-9) && ticks.size() < 50; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  if (ticks.back() < hi - step * 1e-9) ticks.push_back(ticks.back() + step);
  return ticks;
}

namespace {

// The plot area and the y ticks it was made from: the axes end on these ticks, so drawing must use
// them too (ticks recomputed from the axis ends can take a coarser step and fall off the plot).
struct ChartLayout {
  PlotArea area;
  std::vector<double> y_ticks, y2_ticks;
};

ChartLayout layout(const LineChart& chart) {
  Range xr, yr, y2r;
  bool has_right = false;
  for (const auto& s : chart.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!drawable(chart, s.x[i], s.y[i])) continue;
      xr.add(s.x[i]);
      (s.right_axis ? y2r : yr).add(s.y[i]);
    }
    has_right = has_right || s.right_axis;
  }
  if (chart.y_from_zero && !yr.empty()) yr.add(0);
  xr = xr.widened(chart.log_x);
  yr = yr.widened();
  y2r = y2r.widened();
  std::vector<std::string> names;
  for (const auto& s : chart.series) names.push_back(s.name);
  const int legend_h = chart.legend ? kLegendRow * legend_rows(names, chart.width) : 0;
  const double left = kLeft, right = chart.width - (has_right ? kRightAxis : kRightPlain);
  const double top = kTop, bottom = chart.height - kBottom - legend_h;
  // x spans exactly the data, so the last epoch sits on the right edge; y axes end on round ticks.
  ChartLayout l{{}, nice_ticks(yr.lo, yr.hi), nice_ticks(y2r.lo, y2r.hi)};
  l.area.x = Scale{xr.lo, xr.hi, left, right, chart.log_x};
  l.area.y = Scale{l.y_ticks.front(), l.y_ticks.back(), bottom, top};
  l.area.y2 = Scale{l.y2_ticks.front(), l.y2_ticks.back(), bottom, top};
  return l;
}

}  // namespace

PlotArea line_chart_area(const LineChart& chart) {
  return layout(chart).area;
}

std::string svg_line_chart(const LineChart& chart) {
  const ChartLayout l = layout(chart);
  const PlotArea& a = l.area;
  bool has_right = false;
  for (const auto& s : chart.series) has_right = has_right || s.right_axis;
  std::string out = svg_open(chart.width, chart.height, chart.title);
  out += fmt::format("<text x='{}' y='16' font-size='13' font-weight='bold'>{}</text>", kLeft,
                     escape_xml(chart.title));
  const double left = a.x.px_lo, right = a.x.px_hi, top = a.y.px_hi, bottom = a.y.px_lo;
  // Grid and tick labels.
  const auto& yt = l.y_ticks;
  const auto yt_text = tick_texts(yt);
  for (size_t i = 0; i < yt.size(); ++i) {
    const double py = a.y(yt[i]);
    out += fmt::format(
        "<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='#ddd'/>"
        "<text x='{:.1f}' y='{:.1f}' text-anchor='end'>{}</text>",
        left, py, right, py, left - 4, py + 4, yt_text[i]);
  }
  if (has_right) {
    const auto& y2t = l.y2_ticks;
    const auto y2t_text = tick_texts(y2t);
    for (size_t i = 0; i < y2t.size(); ++i) {
      out += fmt::format("<text x='{:.1f}' y='{:.1f}'>{}</text>", right + 4, a.y2(y2t[i]) + 4,
                         y2t_text[i]);
    }
  }
  // Epochs and steps are whole numbers: no tick between two of them.
  bool whole_x = true;
  for (const auto& s : chart.series)
    for (double v : s.x) whole_x = whole_x && (!std::isfinite(v) || v == std::round(v));
  const auto xt = chart.log_x
                      ? log_ticks(a.x.lo, a.x.hi)
                      : nice_ticks(a.x.lo, a.x.hi, std::max(2, chart.width / 90), whole_x ? 1 : 0);
  for (double t : xt) {
    if (t < a.x.lo - 1e-9 || t > a.x.hi + 1e-9) continue;
    out += fmt::format(
        "<line x1='{0:.1f}' y1='{1:.1f}' x2='{0:.1f}' y2='{2:.1f}' stroke='#888'/>"
        "<text x='{0:.1f}' y='{3:.1f}' text-anchor='middle'>{4}</text>",
        a.x(t), bottom, bottom + 4, bottom + 15, chart.log_x ? si_text(t) : tick_text(t));
  }
  out += fmt::format(
      "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='none' stroke='#888'/>",
      left, top, right - left, bottom - top);
  // Axis titles.
  out += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>",
                     (left + right) / 2, bottom + 30, escape_xml(chart.x_label));
  out += fmt::format(
      "<text transform='translate(14 {:.1f}) rotate(-90)' text-anchor='middle'>{}</text>",
      (top + bottom) / 2, escape_xml(chart.y_label));
  if (has_right) {
    out += fmt::format(
        "<text transform='translate({:.1f} {:.1f}) rotate(90)' text-anchor='middle'>{}</text>",
        chart.width - 10.0, (top + bottom) / 2, escape_xml(chart.y2_label));
  }
  // Series.
  std::vector<std::string> names;
  std::vector<bool> dashed, markers;
  for (size_t si = 0; si < chart.series.size(); ++si) {
    const Series& s = chart.series[si];
    const Scale& ys = s.right_axis ? a.y2 : a.y;
    const bool scatter = s.style == SeriesStyle::kPoints;
    std::string points;
    size_t count = 0;
    double prev_py = 0;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!drawable(chart, s.x[i], s.y[i])) continue;
      const double px = a.x(s.x[i]), py = ys(s.y[i]);
      // A step holds the previous value up to this x, then jumps.
      if (s.style == SeriesStyle::kStep && count > 0)
        points += fmt::format("{:.1f},{:.1f} ", px, prev_py);
      points += fmt::format("{:.1f},{:.1f} ", px, py);
      prev_py = py;
      ++count;
    }
    const char* dash = s.right_axis ? "6 3" : kDashes[si % 8];
    if (scatter) {
      out += fmt::format("<g class='series' data-name='{}'>", escape_xml(s.name));
    } else {
      out += fmt::format(
          "<polyline class='series' data-name='{}' points='{}' fill='none' stroke='{}' "
          "stroke-width='2' stroke-dasharray='{}'/>",
          escape_xml(s.name), points, series_color(si), dash);
    }
    // Single points would be invisible as a polyline; a scatter is nothing but its points.
    if (count <= 40 || scatter) {
      const char* marker = scatter ? "r='3.5' fill-opacity='0.7'" : "r='2.5'";
      for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
        if (!drawable(chart, s.x[i], s.y[i])) continue;
        out += fmt::format(
            "<circle cx='{:.1f}' cy='{:.1f}' {} fill='{}'><title>{} {}: {:g}</title></circle>",
            a.x(s.x[i]), ys(s.y[i]), marker, series_color(si), escape_xml(s.name),
            tick_text(s.x[i]), s.y[i]);
      }
    }
    if (scatter) out += "</g>";
    names.push_back(s.name);
    dashed.push_back(s.right_axis);
    markers.push_back(scatter);
  }
  if (chart.legend) {
    const int legend_h = kLegendRow * legend_rows(names, chart.width);
    out += legend_items(names, dashed, kLeft, chart.height - legend_h + kLegendRow - 6, chart.width,
                        markers);
  }
  out += "</svg>";
  return out;
}

std::string svg_bar_chart(const BarChart& chart) {
  constexpr int kLabel = 130, kRow = 20, kValue = 60;
  const int n = static_cast<int>(chart.labels.size());
  const int height = kTop + n * kRow + 34;
  double max = 0;
  for (double v : chart.values) max = std::max(max, std::isfinite(v) ? v : 0.0);
  const auto ticks = nice_ticks(0, max > 0 ? max : 1, 4);
  const Scale x{0, ticks.back(), kLabel, static_cast<double>(chart.width - kValue)};
  std::string out = svg_open(chart.width, height, chart.title);
  out += fmt::format("<text x='4' y='16' font-size='13' font-weight='bold'>{}</text>",
                     escape_xml(chart.title));
  for (int i = 0; i < n; ++i) {
    const double v = i < static_cast<int>(chart.values.size()) ? chart.values[i] : 0.0;
    const int y = kTop + i * kRow;
    out += fmt::format(
        "<text x='{}' y='{}' text-anchor='end'>{}</text><rect x='{}' y='{}' width='{:.1f}' "
        "height='{}' fill='{}'/><text x='{:.1f}' y='{}'>{:.1f}</text>",
        kLabel - 6, y + 14, escape_xml(chart.labels[i]), kLabel, y + 3, x(v) - kLabel, kRow - 6,
        series_color(0), x(v) + 4, y + 14, v);
  }
  const int axis_y = kTop + n * kRow;
  for (double t : ticks) {
    out += fmt::format(
        "<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#888'/>"
        "<text x='{0:.1f}' y='{3}' text-anchor='middle'>{4}</text>",
        x(t), axis_y, axis_y + 4, axis_y + 15, tick_text(t));
  }
  out += fmt::format(
      "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#888'/><text x='{:.1f}' y='{}' "
      "text-anchor='middle'>{}</text></svg>",
      kLabel, axis_y, chart.width - kValue, axis_y, (kLabel + chart.width - kValue) / 2.0,
      axis_y + 30, escape_xml(chart.x_label));
  return out;
}

int svg_legend_height(const std::vector<std::string>& names, int width) {
  return kLegendRow * legend_rows(names, width, 8) + 8;
}

std::string svg_legend(const std::vector<std::string>& names, int width) {
  const int height = svg_legend_height(names, width);
  return svg_open(width, height, "legend") +
         legend_items(names, std::vector<bool>(names.size(), false), 8, kLegendRow - 2, width) +
         "</svg>";
}

const char* series_color(size_t i) {
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  static constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                            "#E69F00", "#56B4E9", "#000000", "#999999"};
  return kColors[i % 8];
}

std::string escape_xml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace fusenas::nas::report
