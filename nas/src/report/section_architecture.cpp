// The report's architecture section: the genotype (DARTS, ENAS micro) or layer chain (ENAS
// macro) as text and tables, and the cells as drawn by graphviz, or their DOT text without it.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

std::string state_name(int s) {
  if (s == 0) return "c_{k-2}";
  if (s == 1) return "c_{k-1}";
  return fmt::format("node {}", s - 2);
}

// Graphviz output without its XML prolog, or empty when it is not a plain drawing (a folder
// from elsewhere could hold scripts; the page runs none).
std::string inline_svg(const std::string& text) {
  const auto start = text.find("<svg");
  if (start == std::string::npos) return {};
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* bad : {"<script", "javascript:", "onload", "onerror", "onclick", "href='http",
                          "href=\"http", "<foreignobject"}) {
    if (lower.find(bad) != std::string::npos) return {};
  }
  return "<div class='cell-drawing'>" + text.substr(start) + "</div>";
}

// One drawing: name.svg inlined, else name.dot as text, else a note.
std::string drawing(RunFiles& files, const std::string& name, const std::string& title) {
  std::string html = fmt::format("<h3>{}</h3>", escape_xml(title));
  if (auto svg = files.text(name + ".svg", 4 << 20)) {
    const std::string inlined = inline_svg(*svg);
    if (!inlined.empty()) return html + inlined;
    files.problem(fmt::format("{}.svg is not a plain graphviz drawing; not inlined", name));
  }
  if (auto dot = files.text(name + ".dot", 256 << 10)) {
    return html + fmt::format(
                      "<p>No {0}.svg (graphviz's <code>dot</code> was not installed when the run "
                      "wrote it); the graph as DOT text (<code>dot -Tsvg {0}.dot</code> draws "
                      "it):</p><pre>{1}</pre>",
                      name, escape_xml(*dot));
  }
  return html + fmt::format("<p class='warn'>Neither {0}.svg nor {0}.dot exists yet.</p>", name);
}

// A genotype cell ([[op, input], ...], intermediate node i sums edges 2i and 2i+1) as a table.
std::string genotype_table(const nlohmann::json& g, const std::string& cell) {
  auto it = g.find(cell);
  if (it == g.end() || !it->is_array()) return {};
  std::string out = fmt::format(
      "<table class='grid'><caption>{} cell</caption><tr><th>node</th><th>input</th>"
      "<th>op</th></tr>",
      cell);
  for (size_t e = 0; e < it->size(); ++e) {
    const auto& edge = (*it)[e];
    if (!edge.is_array() || edge.size() != 2 || !edge[1].is_number_integer()) continue;
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", e / 2,
                       escape_xml(state_name(edge[1].get<int>())), escape_xml(cell_text(edge[0])));
  }
  auto concat = g.find(cell + "_concat");
  if (concat != g.end()) {
    out += fmt::format("<tr><td colspan='3'>output: concat of states {}</td></tr>",
                       escape_xml(concat->dump()));
  }
  return out + "</table>";
}

std::string macro_table(const nlohmann::json& arch) {
  auto layers = arch.find("layers");
  if (layers == arch.end() || !layers->is_array()) return {};
  std::string out = "<table class='grid'><tr><th>layer</th><th>op</th><th>adds layers</th></tr>";
  for (size_t l = 0; l < layers->size(); ++l) {
    const auto& layer = (*layers)[l];
    std::string op = layer.is_object() && layer.contains("op") ? cell_text(layer["op"]) : "?";
    std::string adds;
    if (layer.is_object() && layer.contains("skips") && layer["skips"].is_array()) {
      for (size_t k = 0; k < layer["skips"].size(); ++k)
        if (layer["skips"][k] == 1) adds += fmt::format("{} ", k);
    }
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", l, escape_xml(op),
                       adds.empty() ? "-" : adds);
  }
  return out + "</table>";
}

}  // namespace

void add_architecture(RunFiles& files, RunReport& report) {
  std::string html;
  const auto& result = files.json_file("result.json", false);
  const auto& arch = files.json_file("arch.json", false);
  const bool macro = (result && string_field(*result, "space") == "macro") ||
                     files.exists("arch.dot") || (arch && arch->contains("layers"));
  if (macro) {
    if (auto txt = files.text("arch.txt", 64 << 10))
      html += fmt::format("<pre class='wrap'>{}</pre>", escape_xml(*txt));
    if (arch) html += macro_table(*arch);
    html += drawing(files, "arch", "Layer chain");
    report.sections.push_back({"architecture", "Architecture", html});
    return;
  }
  // The genotype: the file when written, else the last epoch's (a live run's first epoch).
  std::optional<std::string> text = files.text("genotype.txt", 64 << 10);
  if (!text && result) text = string_field(*result, "genotype");
  const auto& metrics = files.jsonl("metrics.jsonl", false);
  if (!text && !metrics.empty()) text = string_field(metrics.back(), "genotype");
  if (text) {
    html += fmt::format("<pre class='wrap'>{}</pre>", escape_xml(*text));
  } else {
    html += "<p class='warn'>No genotype yet (genotype.txt is written after the first epoch).</p>";
  }
  if (const auto& g = files.json_file("genotype.json", false)) {
    html += "<div class='multiples'>" + genotype_table(*g, "normal") +
            genotype_table(*g, "reduce") + "</div>";
  }
  html += drawing(files, "normal", "Normal cell") + drawing(files, "reduce", "Reduction cell");
  report.sections.push_back({"architecture", "Architecture", html});
}

}  // namespace fusenas::nas::report
