// The report's training curves: loss and accuracy of train, search-val and test (whichever the
// run's metrics.jsonl has), each with the lr on a second axis.
#include <fmt/format.h>

#include "report/sections.h"

namespace fusenas::nas::report {

Series metric_series(const std::vector<nlohmann::json>& rows, const char* x_key, const char* y_key,
                     std::string name, bool right_axis) {
  Series s;
  s.name = std::move(name);
  s.right_axis = right_axis;
  for (const auto& row : rows) {
    auto x = number(row, x_key);
    auto y = number(row, y_key);
    if (!x || !y) continue;
    s.x.push_back(*x);
    s.y.push_back(*y);
  }
  return s;
}

namespace {

// Adds the series that have points; returns whether any did.
bool add_present(LineChart& chart, std::vector<Series> candidates) {
  bool any = false;
  for (auto& s : candidates) {
    if (s.x.empty()) continue;
    any = any || !s.right_axis;
    chart.series.push_back(std::move(s));
  }
  return any;
}

}  // namespace

void add_curves(RunFiles& files, RunReport& report) {
  const auto& m = files.jsonl("metrics.jsonl", true);
  if (m.empty()) {
    report.sections.push_back(
        {"curves", "Curves", "<p>No epoch has finished yet: metrics.jsonl has no rows.</p>"});
    return;
  }
  const Series lr = metric_series(m, "epoch", "lr", "lr (right axis)", true);
  LineChart loss("Loss", "epoch", "cross-entropy loss", "learning rate");
  LineChart acc("Accuracy", "epoch", "accuracy (%)", "learning rate");
  // metrics.jsonl field names per app: docs/formats.md.
  bool has_loss = add_present(
      loss, {metric_series(m, "epoch", "train_loss", "train"),
             metric_series(m, "epoch", "shared_loss", "train (shared weights, sampled children)"),
             metric_series(m, "epoch", "arch_val_loss", "search-val (architect steps)"),
             metric_series(m, "epoch", "val_loss", "search-val"),
             metric_series(m, "epoch", "test_loss", "test"), lr});
  bool has_acc = add_present(
      acc, {metric_series(m, "epoch", "train_acc", "train"),
            metric_series(m, "epoch", "shared_acc", "train (shared weights, sampled children)"),
            metric_series(m, "epoch", "val_acc", "search-val"),
            metric_series(m, "epoch", "test_acc", "test"), lr});
  std::string html;
  if (has_loss) html += svg_line_chart(loss);
  if (has_acc) html += svg_line_chart(acc);
  if (html.empty()) html = "<p class='warn'>metrics.jsonl has no loss or accuracy fields.</p>";
  report.sections.push_back({"curves", "Curves", html});
}

}  // namespace fusenas::nas::report
