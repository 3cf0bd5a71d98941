// The report's ENAS sections: the controller's reward, baseline and entropy, and what it
// sampled (op, input and skip distributions from sampled_archs.jsonl).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "report/sections.h"

namespace fusenas::nas::report {

namespace {

constexpr size_t kMaxStepPoints = 1000;  // a long search's steps are averaged in runs of steps

// One controller step as sampled_archs.jsonl holds it: its samples' rewards, and the baseline
// and entropy that runs since the fields were added write on each of its rows.
struct StepStats {
  double reward_sum = 0;
  int samples = 0;
  std::optional<double> baseline, entropy;
};

// Steps numbered across epochs; `width` consecutive steps become one point (their mean), so a
// search of many thousand steps still draws a light chart.
Series step_series(const std::vector<std::pair<double, double>>& points, size_t width,
                   std::string name, bool right_axis = false) {
  Series out;
  out.name = std::move(name);
  out.right_axis = right_axis;
  for (size_t i = 0; i < points.size(); i += width) {
    const size_t end = std::min(points.size(), i + width);
    double sum = 0;
    for (size_t k = i; k < end; ++k) sum += points[k].second;
    out.x.push_back(points[end - 1].first);
    out.y.push_back(sum / static_cast<double>(end - i));
  }
  return out;
}

std::string per_step_chart(RunFiles& files) {
  std::map<std::pair<double, double>, StepStats> steps;
  files.scan_jsonl("sampled_archs.jsonl", false, [&](const nlohmann::json& j) {
    auto e = number(j, "epoch"), s = number(j, "step"), r = number(j, "reward");
    if (!e || !s || !r) return;
    StepStats& step = steps[{*e, *s}];
    step.reward_sum += *r;
    ++step.samples;
    if (auto b = number(j, "step_baseline")) step.baseline = b;
    if (auto h = number(j, "step_entropy")) step.entropy = h;
  });
  if (steps.empty()) return "";
  std::vector<std::pair<double, double>> reward, baseline, entropy;
  double index = 0;
  for (const auto& [key, step] : steps) {
    ++index;
    reward.emplace_back(index, step.reward_sum / step.samples);
    if (step.baseline) baseline.emplace_back(index, *step.baseline);
    if (step.entropy) entropy.emplace_back(index, *step.entropy);
  }
  const size_t width = (steps.size() + kMaxStepPoints - 1) / kMaxStepPoints;
  const std::string of = width > 1 ? fmt::format(", means of {} steps", width) : "";
  // Folders from before the per-step fields have the rewards only.
  const bool full = !baseline.empty() || !entropy.empty();
  LineChart chart(full ? "Controller per step" + of : "Reward per controller step" + of,
                  "controller step (all epochs)", "reward (fraction correct)",
                  entropy.empty() ? "" : "entropy (nats)");
  chart.series.push_back(step_series(reward, width, "mean reward of the step's samples"));
  if (!baseline.empty())
    chart.series.push_back(step_series(baseline, width, "baseline (after the step)"));
  if (!entropy.empty())
    chart.series.push_back(step_series(entropy, width, "entropy (right axis)", true));
  return svg_line_chart(chart);
}

}  // namespace

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
  html += per_step_chart(files);
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
