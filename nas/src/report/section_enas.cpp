// The report's ENAS sections: the controller's reward, baseline and entropy, and what it
// sampled (op, input and skip distributions from sampled_archs.jsonl).
#include <fmt/format.h>

#include <map>

#include "report/sections.h"

namespace fusenas::nas::report {

void add_controller(RunFiles& files, RunReport& report) {
  const auto& m = files.jsonl("metrics.jsonl", false);
  std::string html;
  LineChart per_epoch("Controller per epoch", "epoch", "reward (fraction correct)",
                      "entropy (nats)");
  for (auto s : {metric_series(m, "epoch", "mean_reward", "mean reward"),
                 metric_series(m, "epoch", "best_reward", "best reward"),
                 metric_series(m, "epoch", "baseline", "baseline (after the epoch)"),
                 metric_series(m, "epoch", "entropy", "entropy (right axis)", true)}) {
    if (!s.x.empty()) per_epoch.series.push_back(std::move(s));
  }
  if (!per_epoch.series.empty()) html += svg_line_chart(per_epoch);
  // Per controller step: the mean reward of the step's samples, steps numbered across epochs.
  Series step_mean;
  step_mean.name = "mean reward of the step's samples";
  std::map<std::pair<double, double>, std::pair<double, int>> steps;
  files.scan_jsonl("sampled_archs.jsonl", false, [&](const nlohmann::json& j) {
    auto e = number(j, "epoch"), s = number(j, "step"), r = number(j, "reward");
    if (!e || !s || !r) return;
    auto& [sum, n] = steps[{*e, *s}];
    sum += *r;
    ++n;
  });
  int index = 0;
  for (const auto& [key, v] : steps) {
    step_mean.x.push_back(++index);
    step_mean.y.push_back(v.first / v.second);
  }
  if (!step_mean.x.empty()) {
    LineChart chart("Reward per controller step", "controller step (all epochs)",
                    "reward (fraction correct)");
    chart.series = {step_mean};
    html += svg_line_chart(chart);
  }
  if (html.empty()) html = "<p>No controller statistics yet (metrics.jsonl has no rows).</p>";
  report.sections.push_back({"controller", "Controller", html});
}

namespace {

BarChart counts_chart(std::string title, std::string x_label,
                      const std::map<std::string, double>& counts) {
  BarChart chart(std::move(title), std::move(x_label));
  double total = 0;
  for (const auto& [k, v] : counts) total += v;
  for (const auto& [k, v] : counts) {
    chart.labels.push_back(k);
    chart.values.push_back(total > 0 ? 100.0 * v / total : 0.0);
  }
  return chart;
}

}  // namespace

void add_sampled(RunFiles& files, RunReport& report) {
  // Micro: ops and inputs per cell; macro: ops per layer and skips.
  std::map<std::string, double> normal_ops, reduce_ops, inputs, macro_ops, skips_per_layer;
  double skips_taken = 0, skips_possible = 0;
  const size_t n = files.scan_jsonl("sampled_archs.jsonl", true, [&](const nlohmann::json& j) {
    auto arch = j.find("arch");
    if (arch == j.end() || !arch->is_object()) return;
    for (const char* cell : {"normal", "reduce"}) {
      auto c = arch->find(cell);
      if (c == arch->end() || !c->is_array()) continue;
      for (const auto& node : *c) {
        if (!node.is_array() || node.size() != 4) continue;
        auto& ops = std::string(cell) == "normal" ? normal_ops : reduce_ops;
        ops[cell_text(node[1])] += 1;
        ops[cell_text(node[3])] += 1;
        for (int k : {0, 2})
          if (node[k].is_number_integer()) inputs[fmt::format("state {}", node[k].get<int>())] += 1;
      }
    }
    auto layers = arch->find("layers");
    if (layers != arch->end() && layers->is_array()) {
      for (const auto& layer : *layers) {
        if (!layer.is_object()) continue;
        if (layer.contains("op")) macro_ops[cell_text(layer["op"])] += 1;
        if (!layer.contains("skips") || !layer["skips"].is_array()) continue;
        int taken = 0;
        for (const auto& s : layer["skips"]) taken += s == 1 ? 1 : 0;
        skips_taken += taken;
        skips_possible += static_cast<double>(layer["skips"].size());
        skips_per_layer[fmt::format("{:2} skips", taken)] += 1;
      }
    }
  });
  std::string html;
  if (n == 0) {
    html = "<p>No sampled architectures yet.</p>";
  } else {
    html = fmt::format("<p>Over all {} children the controller sampled for its steps.</p>", n);
    html += "<div class='multiples'>";
    if (!normal_ops.empty())
      html += svg_bar_chart(counts_chart("Ops, normal cell", "share of choices (%)", normal_ops));
    if (!reduce_ops.empty())
      html +=
          svg_bar_chart(counts_chart("Ops, reduction cell", "share of choices (%)", reduce_ops));
    if (!inputs.empty())
      html += svg_bar_chart(
          counts_chart("Inputs (state 0, 1: cell inputs)", "share of choices (%)", inputs));
    if (!macro_ops.empty())
      html += svg_bar_chart(counts_chart("Ops per layer", "share of layers (%)", macro_ops));
    if (!skips_per_layer.empty())
      html += svg_bar_chart(
          counts_chart("Skips taken per layer", "share of layers (%)", skips_per_layer));
    html += "</div>";
    if (skips_possible > 0) {
      html += fmt::format("<p>Skip rate over all samples: {:.1f}% of possible skips.</p>",
                          100.0 * skips_taken / skips_possible);
      const auto& m = files.jsonl("metrics.jsonl", false);
      Series rate = metric_series(m, "epoch", "skip_rate", "skip rate");
      if (!rate.x.empty()) {
        LineChart chart("Skip rate per epoch", "epoch", "fraction of possible skips");
        chart.series = {rate};
        chart.y_from_zero = true;
        html += svg_line_chart(chart);
      }
    }
  }
  report.sections.push_back({"sampled", "Sampled architectures", html});
}

}  // namespace fusenas::nas::report
