// The report's DARTS alphas: softmax(alpha) of every edge over the epochs, as small multiples
// (one chart per edge, one line per candidate op) for the normal and the reduction cell.
#include <fmt/format.h>

#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

// Edge e of node i reading state j is e = i (i + 3) / 2 + j (docs/formats.md).
std::string edge_title(int e) {
  int i = 0;
  while ((i + 1) * (i + 4) / 2 <= e) ++i;
  const int j = e - i * (i + 3) / 2;
  const std::string from = j == 0 ? "c_{k-2}" : j == 1 ? "c_{k-1}" : fmt::format("node {}", j - 2);
  return fmt::format("edge {}: {} \u2192 node {}", e, from, i);
}

std::string cell_multiples(const std::vector<nlohmann::json>& rows,
                           const std::vector<std::string>& ops, const std::string& cell) {
  size_t edges = 0;
  for (const auto& r : rows) {
    auto it = r.find(cell);
    if (it != r.end() && it->is_array()) edges = std::max(edges, it->size());
  }
  if (edges == 0) return {};
  std::string out = fmt::format("<h3>{} cell</h3><div class='multiples'>",
                                cell == "normal" ? "Normal" : "Reduction");
  for (size_t e = 0; e < edges; ++e) {
    LineChart chart(edge_title(static_cast<int>(e)), "epoch", "softmax weight");
    chart.width = 300;
    chart.height = 190;
    chart.legend = false;
    chart.y_from_zero = true;
    for (size_t k = 0; k < ops.size(); ++k) {
      Series s;
      s.name = ops[k];
      for (const auto& r : rows) {
        auto epoch = number(r, "epoch");
        auto it = r.find(cell);
        if (!epoch || it == r.end() || !it->is_array() || e >= it->size()) continue;
        const auto& w = (*it)[e];
        if (!w.is_array() || k >= w.size() || !w[k].is_number()) continue;
        s.x.push_back(*epoch);
        s.y.push_back(w[k].get<double>());
      }
      chart.series.push_back(std::move(s));
    }
    out += svg_line_chart(chart);
  }
  return out + "</div>";
}

}  // namespace

void add_alphas(RunFiles& files, RunReport& report) {
  const auto& rows = files.jsonl("alphas.jsonl", true);
  std::vector<std::string> ops;
  for (const auto& r : rows) {
    auto it = r.find("ops");
    if (it == r.end() || !it->is_array()) continue;
    ops.clear();
    for (const auto& op : *it) ops.push_back(cell_text(op));
  }
  std::string html;
  if (rows.empty() || ops.empty()) {
    html = "<p>No alphas yet: alphas.jsonl gets a row after each epoch.</p>";
  } else {
    html = fmt::format(
        "<p>softmax(alpha) of each edge after each epoch ({} epochs); the genotype keeps, per "
        "node, the two edges whose strongest op other than <code>none</code> weighs most.</p>",
        rows.size());
    html += svg_legend(ops, 900);
    html += cell_multiples(rows, ops, "normal") + cell_multiples(rows, ops, "reduce");
  }
  report.sections.push_back({"alphas", "Architecture weights (alphas)", html});
}

}  // namespace fusenas::nas::report
