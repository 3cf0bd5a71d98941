// Trial counts, ranking, Pareto front, plot points and short texts for the search sections.
#include "report/search_view.h"

#include <algorithm>
#include <cmath>

#include "report/sections.h"

namespace fusenas::nas::report {

TrialCounts count_trials(const std::vector<Trial>& trials) {
  TrialCounts c;
  for (const Trial& t : trials) {
    switch (t.status) {
      case TrialStatus::kDone:
        ++c.done;
        break;
      case TrialStatus::kFailed:
        ++c.failed;
        break;
      case TrialStatus::kRunning:
        ++c.running;
        break;
      case TrialStatus::kPending:
        ++c.pending;
        break;
      case TrialStatus::kPruned:
        ++c.pruned;
        break;
    }
  }
  return c;
}

std::vector<const Trial*> ranked_done(const std::vector<Trial>& trials) {
  std::vector<const Trial*> out;
  for (const Trial& t : trials) {
    if (t.status == TrialStatus::kDone && t.score && std::isfinite(*t.score)) out.push_back(&t);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Trial* a, const Trial* b) { return *a->score > *b->score; });
  return out;
}

std::vector<const Trial*> pareto_front(const std::vector<Trial>& trials) {
  std::vector<const Trial*> sized;
  for (const Trial* t : ranked_done(trials)) {
    if (t->params && *t->params > 0) sized.push_back(t);
  }
  // Ranked order breaks ties in size: the better (then earlier) trial of a size comes first.
  std::stable_sort(sized.begin(), sized.end(),
                   [](const Trial* a, const Trial* b) { return *a->params < *b->params; });
  std::vector<const Trial*> front;
  for (const Trial* t : sized) {
    if (front.empty() || *t->score > *front.back()->score) front.push_back(t);
  }
  return front;
}

std::vector<TrialPoint> trial_points(const std::vector<Trial>& trials) {
  std::vector<TrialPoint> out;
  double elapsed = 0;
  for (const Trial& t : trials) {
    if (t.wall_seconds) elapsed += *t.wall_seconds;
    TrialPoint p;
    p.id = t.id;
    p.elapsed_seconds = elapsed;
    p.score = t.score;
    p.params = t.params.value_or(0);
    switch (t.status) {
      case TrialStatus::kDone:
        p.outcome = TrialOutcome::kDone;
        break;
      case TrialStatus::kFailed:
        p.outcome = TrialOutcome::kFailed;
        break;
      case TrialStatus::kPruned:
        p.outcome = TrialOutcome::kPruned;
        break;
      case TrialStatus::kPending:
      case TrialStatus::kRunning:
        p.outcome = TrialOutcome::kUnfinished;
        break;
    }
    out.push_back(p);
  }
  return out;
}

std::string hp_text(const nlohmann::json& hp) {
  if (hp.is_null()) return {};
  if (!hp.is_object()) return cell_text(hp);
  std::string out;
  for (const auto& [key, value] : hp.items())
    out += (out.empty() ? "" : ", ") + key + " " + cell_text(value);
  return out;
}

std::string candidate_text(const Trial& t, size_t max_chars) {
  if (t.metrics.is_object()) {
    const auto it = t.metrics.find("text");
    if (it != t.metrics.end() && it->is_string()) return shorten(it->get<std::string>(), max_chars);
  }
  return shorten(t.candidate.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 max_chars);
}

std::string shorten(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars;
  // Back to the first byte of a UTF-8 sequence, so the page stays valid UTF-8.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "\u2026";
}

}  // namespace fusenas::nas::report
