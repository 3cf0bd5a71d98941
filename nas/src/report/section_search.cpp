// The overview of a black-box search: what it searches (strategy, space, hyperparameter mode,
// budget, fidelity), how far it got (trials by status) and the incumbent with its nas_train
// command.
#include <fmt/format.h>

#include "report/search_view.h"
#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

// config.json, else the copy the trial database keeps of it.
const nlohmann::json* search_config(RunFiles& files) {
  if (const auto& c = files.json_file("config.json", true)) return &*c;
  const auto& store = files.trial_store();
  if (store && store->identity.config.is_object()) return &store->identity.config;
  return nullptr;
}

// A config field as escaped text; "?" when absent.
std::string field(const nlohmann::json& c, const char* key) {
  const auto it = c.find(key);
  return it == c.end() ? "?" : escape_xml(cell_text(*it));
}

std::string row(const char* name, const std::string& html) {
  return fmt::format("<tr><th>{}</th><td>{}</td></tr>", name, html);
}

std::string strategy_text(const nlohmann::json& c) {
  std::string out = field(c, "strategy");
  // 0 stands for the default scaled to the budget, which config.json does not spell out.
  const auto option = [&](const char* key, const char* name) {
    const auto v = number(c, key);
    if (v && *v > 0) out += fmt::format(", {} {:g}", name, *v);
  };
  const std::string strategy = string_field(c, "strategy").value_or("");
  if (strategy == "evolution") {
    option("population", "population");
    option("tournament", "tournament");
  } else if (strategy == "bo") {
    option("bo_init", "random trials first:");
    if (const auto a = string_field(c, "acquisition")) out += ", acquisition " + escape_xml(*a);
  }
  if (c.contains("seed")) out += ", seed " + field(c, "seed");
  return out;
}

std::string space_text(const nlohmann::json& c) {
  std::string out = field(c, "space");
  const auto it = c.find("space_options");
  if (it != c.end() && !it->empty()) {
    out += " <code>" +
           escape_xml(it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) +
           "</code>";
  }
  return out;
}

std::string hpo_text(const nlohmann::json& c) {
  const std::string hpo = string_field(c, "hpo").value_or("");
  if (hpo == "off") {
    return fmt::format(
        "off: every trial trains with batch size {}, lr {}, momentum {}, weight decay {}",
        field(c, "batch_size"), field(c, "lr"), field(c, "momentum"), field(c, "weight_decay"));
  }
  if (hpo == "joint") return "joint: a candidate is an architecture with its hyperparameters";
  if (hpo == "after") {
    const auto share = number(c, "hpo_share");
    return fmt::format(
        "after: the last {} of the trials tune the best architecture's hyperparameters",
        share ? fmt::format("{:g}%", *share * 100) : "part");
  }
  return field(c, "hpo");
}

std::string budget_text(const nlohmann::json& c) {
  std::string out = field(c, "budget_trials") + " trials";
  if (const auto m = number(c, "budget_minutes"); m && *m > 0)
    out += fmt::format(" or {:g} minutes of trials, whichever ends first", *m);
  return out;
}

std::string counts_text(const std::vector<Trial>& trials) {
  const TrialCounts n = count_trials(trials);
  std::string out =
      fmt::format("{} in the database: {} done, {} failed", trials.size(), n.done, n.failed);
  if (n.running > 0) out += fmt::format(", {} running", n.running);
  if (n.pending > 0) out += fmt::format(", {} pending", n.pending);
  if (n.pruned > 0) out += fmt::format(", {} pruned", n.pruned);
  return out;
}

const Trial* find_trial(const std::vector<Trial>& trials, std::optional<double> id) {
  if (!id) return nullptr;
  for (const Trial& t : trials)
    if (static_cast<double>(t.id) == *id) return &t;
  return nullptr;
}

std::string params_text(const Trial* t) {
  if (!t || !t->params) return {};
  return fmt::format(", {} parameters ({:.3f} M)", *t->params, *t->params / 1e6);
}

}  // namespace

std::string search_overview_rows(RunFiles& files) {
  std::string html;
  if (const nlohmann::json* c = search_config(files)) {
    html += row("strategy", strategy_text(*c));
    html += row("space", space_text(*c));
    html += row("hyperparameters", hpo_text(*c));
    html += row("budget", budget_text(*c));
    html += row("each trial",
                fmt::format("{} epochs from scratch on {} (train_subset {})", field(*c, "epochs"),
                            field(*c, "dataset"), field(*c, "train_subset")));
  }
  const auto& store = files.trial_store();
  if (!store) {
    return html + row("trials",
                      "<span class='warn'>unknown: trials.sqlite is missing or "
                      "unreadable</span>");
  }
  html += row("trials", counts_text(store->trials));
  double seconds = 0;
  for (const Trial& t : store->trials) seconds += t.wall_seconds.value_or(0);
  if (seconds > 0)
    html += row("time in trials", fmt::format("{:.1f} s ({:.1f} min)", seconds, seconds / 60));
  return html;
}

std::string search_incumbent(RunFiles& files) {
  const auto& inc = files.json_file("incumbent.json", false);
  const auto& store = files.trial_store();
  const std::vector<Trial> none;
  const std::vector<Trial>& trials = store ? store->trials : none;
  const std::vector<const Trial*> ranked = ranked_done(trials);
  const Trial* best = ranked.empty() ? nullptr : ranked.front();
  std::string html = "<h3>Incumbent</h3>";
  if (!inc && !best) return html + "<p>No trial has finished yet: there is no incumbent.</p>";
  // incumbent.json carries what the database cannot tell: the architecture's text (the stage
  // after an hyperparameter search stores only hyperparameters) and the nas_train command.
  const auto inc_id = inc ? number(*inc, "trial") : std::nullopt;
  const Trial* t = inc ? find_trial(trials, inc_id) : best;
  const auto score = inc ? number(*inc, "score") : best->score;
  html += fmt::format(
      "<p class='headline'>trial {}: {}{}</p>",
      inc_id ? fmt::format("{:g}", *inc_id) : (inc ? "?" : std::to_string(best->id)),
      score ? fmt::format("search-val accuracy {:.2f}%", *score) : "no score", params_text(t));
  std::string text, hp;
  if (inc) {
    text = string_field(*inc, "text").value_or("");
    if (const auto it = inc->find("hp"); it != inc->end()) hp = hp_text(*it);
  } else {
    text = candidate_text(*best, 2000);
    hp = hp_text(best->hyperparameters);
  }
  if (text.empty() && t) text = candidate_text(*t, 2000);
  html += "<table class='kv'>";
  html += row("architecture", "<code>" + escape_xml(text) + "</code>");
  if (!hp.empty()) html += row("hyperparameters", escape_xml(hp));
  html += "</table>";
  const std::string command = inc ? string_field(*inc, "train_command").value_or("") : "";
  if (!command.empty()) {
    html += "<p>Train it fully with:</p><pre class='wrap'>" + escape_xml(command) + "</pre>";
  } else if (inc) {
    html += "<p>incumbent.json names no <code>nas_train</code> command for this space.</p>";
  } else {
    html +=
        "<p>incumbent.json is not written yet (nas_search rewrites it after each trial): this is "
        "the trial database's best.</p>";
  }
  if (inc && best && score && *best->score > *score) {
    html += fmt::format(
        "<p>The trial database already holds a better trial: trial {} ({:.2f}%); "
        "incumbent.json is rewritten after each trial.</p>",
        best->id, *best->score);
  }
  return html;
}

}  // namespace fusenas::nas::report
