// DOT and SVG renderings of a search's cells and alphas.
#include "fusenas/nas/space/artifacts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fusenas::nas {
namespace {

std::string state_name(int s) {
  if (s == 0) return "c_{k-2}";
  if (s == 1) return "c_{k-1}";
  return std::to_string(s - 2);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::string cell_to_dot(const std::vector<GenotypeEdge>& edges, const std::vector<int>& concat,
                        const std::string& title) {
  std::string s = fmt::format(
      "digraph \"{}\" {{\n  rankdir=LR;\n  label=\"{}\";\n"
      "  node [style=\"rounded,filled\", shape=rect, fontname=\"helvetica\"];\n"
      "  edge [fontname=\"helvetica\", fontsize=11];\n",
      title, title);
  s += "  \"c_{k-2}\" [fillcolor=darkseagreen2];\n  \"c_{k-1}\" [fillcolor=darkseagreen2];\n";
  const int nodes = static_cast<int>(edges.size() / 2);
  for (int i = 0; i < nodes; ++i) s += fmt::format("  \"{}\" [fillcolor=lightblue];\n", i);
  s += "  \"c_{k}\" [fillcolor=palegoldenrod];\n";
  for (size_t e = 0; e < edges.size(); ++e) {
    s += fmt::format("  \"{}\" -> \"{}\" [label=\"{}\"];\n", state_name(edges[e].input),
                     static_cast<int>(e / 2), edges[e].op);
  }
  for (int c : concat) s += fmt::format("  \"{}\" -> \"c_{{k}}\" [color=gray];\n", state_name(c));
  return s + "}\n";
}

bool render_dot(const std::string& dot_file) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return false;
  const std::filesystem::path p(dot_file);
  bool ok = true;
  for (const char* fmt_name : {"svg", "png"}) {
    const std::string out = (p.parent_path() / p.stem()).string() + "." + fmt_name;
    const std::string cmd = fmt::format("dot -T{} {} -o {} 2>/dev/null", fmt_name,
                                        shell_quote(dot_file), shell_quote(out));
    ok = std::system(cmd.c_str()) == 0 && ok;
  }
  return ok;
}

std::string alpha_heatmap_svg(const std::vector<std::vector<std::vector<double>>>& history,
                              const std::vector<std::string>& ops, int nodes,
                              const std::string& title) {
  const int epochs = static_cast<int>(history.size());
  const int edges = epochs > 0 ? static_cast<int>(history[0].size()) : 0;
  const int k = static_cast<int>(ops.size());
  const int cell = 10, label_w = 95, cols = std::min(edges, nodes + 1);
  const int panel_w = label_w + std::max(epochs, 1) * cell + 20;
  const int panel_h = k * cell + 30;
  const int rows = cols > 0 ? (edges + cols - 1) / cols : 0;
  const int width = cols * panel_w + 10, height = rows * panel_h + 60;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"helvetica\" font-size=\"9\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"10\" y=\"18\" font-size=\"14\">{} - softmax(alpha) per edge; "
      "columns are epochs 1..{}; pale = uniform 1/{}, full colour = 3/{} or more</text>\n",
      width, height, title, epochs, k, k);
  int e = 0;
  for (int node = 0; node < nodes && e < edges; ++node) {
    for (int j = 0; j < node + 2 && e < edges; ++j, ++e) {
      const int x0 = 10 + (e % cols) * panel_w, y0 = 40 + (e / cols) * panel_h;
      s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\">node {} &lt;- {}</text>\n", x0,
                       y0 + 10, node, state_name(j));
      for (int o = 0; o < k; ++o) {
        const int y = y0 + 16 + o * cell;
        s += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", x0, y + 8, ops[o]);
        for (int t = 0; t < epochs; ++t) {
          // Uniform weights (1/k) are pale and 3/k or more is full colour: alphas move slowly,
          // so a linear 0..1 scale would show a near-white picture.
          const double w = history[t][e][o];
          const int shade = static_cast<int>(255 * (1 - std::clamp(w * k / 3.0, 0.0, 1.0)));
          s += fmt::format(
              "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"rgb({},{},255)\"><title>"
              "epoch {} {}: {:.4f}</title></rect>\n",
              x0 + label_w + t * cell, y, cell - 1, cell - 1, shade, shade, t + 1, ops[o], w);
        }
      }
    }
  }
  return s + "</svg>\n";
}

}  // namespace fusenas::nas
