// The trial table of a black-box search: every trial of a small search, and for a big one the
// best done trials, those in progress and the latest failures, saying what is left out; and the
// small inline script that sorts it by a clicked column.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report/search_view.h"
#include "report/sections.h"

namespace fusenas::nas::report {
namespace {

constexpr size_t kShowAll = 60;     // a table this long still reads whole
constexpr size_t kBestRows = 50;    // beyond it: the best done trials,
constexpr size_t kFailedRows = 50;  // the latest failed or pruned ones and all in progress
constexpr size_t kCandidateChars = 120, kTitleChars = 2000, kErrorChars = 400;

bool ended_badly(const Trial& t) {
  return t.status == TrialStatus::kFailed || t.status == TrialStatus::kPruned;
}

// The rows in the order shown: done ones best first, then running, pending, failed and pruned
// ones by id. A big search keeps only the best done rows and the latest bad endings.
std::vector<const Trial*> chosen_rows(const std::vector<Trial>& trials,
                                      const std::vector<const Trial*>& ranked) {
  const bool capped = trials.size() > kShowAll;
  std::vector<const Trial*> rows(
      ranked.begin(), ranked.begin() + std::min(ranked.size(), capped ? kBestRows : ranked.size()));
  for (TrialStatus s : {TrialStatus::kDone, TrialStatus::kRunning, TrialStatus::kPending}) {
    for (const Trial& t : trials) {
      // Done without a finite score: nas_search never writes one, but the table must not lose it.
      const bool unranked = s == TrialStatus::kDone && (!t.score || !std::isfinite(*t.score));
      if (t.status == s && (s != TrialStatus::kDone || (unranked && !capped))) rows.push_back(&t);
    }
  }
  std::vector<const Trial*> bad;
  for (const Trial& t : trials)
    if (ended_badly(t)) bad.push_back(&t);
  const size_t keep = capped ? std::min(bad.size(), kFailedRows) : bad.size();
  rows.insert(rows.end(), bad.end() - static_cast<std::ptrdiff_t>(keep), bad.end());
  return rows;
}

std::string left_out_text(const std::vector<Trial>& trials, const std::vector<const Trial*>& rows) {
  std::set<int64_t> shown;
  for (const Trial* t : rows) shown.insert(t->id);
  std::map<std::string, int64_t> left;
  for (const Trial& t : trials)
    if (!shown.count(t.id)) ++left[to_string(t.status)];
  std::string out;
  for (const auto& [status, n] : left)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, status);
  return fmt::format(
      "<p>Showing {} of {} trials: the best {} done, every running and pending one, "
      "and the last {} failed or pruned. Left out: {}.</p>",
      rows.size(), trials.size(), kBestRows, kFailedRows, out);
}

// Without a hyperparameter search every trial holds the same ones: a column of repeats.
bool same_hyperparameters(const std::vector<Trial>& trials) {
  for (const Trial& t : trials)
    if (t.hyperparameters != trials.front().hyperparameters) return false;
  return true;
}

// The table's status order, so sorting by status groups rows as the table first shows them.
int status_order(TrialStatus s) {
  switch (s) {
    case TrialStatus::kDone:
      return 0;
    case TrialStatus::kRunning:
      return 1;
    case TrialStatus::kPending:
      return 2;
    case TrialStatus::kFailed:
      return 3;
    case TrialStatus::kPruned:
      return 4;
  }
  return 5;
}

// A cell whose text is not its sort value carries the value in data-key (the sort script's).
std::string row_html(const Trial& t, const std::map<int64_t, size_t>& rank,
                     const std::set<int64_t>& front, bool hp_column) {
  const auto r = rank.find(t.id);
  const std::string rank_key = r == rank.end() ? "" : std::to_string(r->second);
  const std::string rank_text = rank_key + (front.count(t.id) ? " \u25c6" : "");
  std::string epochs = std::to_string(t.curve.size());
  if (const auto e = number(t.fidelity, "epochs")) epochs += fmt::format("/{:g}", *e);
  const std::string candidate = candidate_text(t, kCandidateChars);
  const std::string full = candidate_text(t, kTitleChars);
  return fmt::format(
      "<tr class='trial-{}{}'><td>{}</td><td data-key='{}'>{}</td><td data-key='{}'>{}</td>"
      "<td data-key='{}'>{}</td><td>{}</td><td data-key='{}'>{}</td><td>{}</td>{}"
      "<td class='cand'{}>{}</td><td>{}</td></tr>",
      to_string(t.status), r != rank.end() && r->second == 1 ? " best" : "", t.id,
      status_order(t.status), to_string(t.status), rank_key, rank_text,
      t.score && std::isfinite(*t.score) ? fmt::format("{}", *t.score) : "",
      t.score ? fmt::format("{:.2f}", *t.score) : "", t.params ? std::to_string(*t.params) : "",
      t.curve.size(), epochs, t.wall_seconds ? fmt::format("{:.1f}", *t.wall_seconds) : "",
      hp_column ? "<td>" + escape_xml(hp_text(t.hyperparameters)) + "</td>" : "",
      full == candidate ? "" : " title='" + escape_xml(full) + "'", escape_xml(candidate),
      escape_xml(shorten(t.error, kErrorChars)));
}

// Sorts a table[data-sortable] by the column whose header is clicked (or focused and given
// Enter): numbers by value, text by locale, empty cells last either way, ties in the first order.
// It only reorders rows the page already shows, so the page reads the same without it.
constexpr const char* kSortScript = R"(
(function(){
var each=function(list,f){Array.prototype.forEach.call(list,f);};
each(document.querySelectorAll('table[data-sortable]'),function(table){
 var body=table.tBodies[0],heads=table.tHead?table.tHead.rows[0].cells:[];
 if(!body)return;
 each(body.rows,function(r,i){r.dataset.order=i;});
 table.classList.add('sorting');
 each(heads,function(th,col){
  var num=th.dataset.sort==='num';
  var key=function(r){var c=r.cells[col];if(!c)return '';
   var k=c.dataset.key;return (k!==undefined?k:c.textContent).trim();};
  var sort=function(){
   var up=th.getAttribute('aria-sort')!=='ascending';
   var rows=Array.prototype.slice.call(body.rows);
   rows.sort(function(a,b){
    var x=key(a),y=key(b),tie=a.dataset.order-b.dataset.order;
    if(x===''||y==='')return x===y?tie:(x===''?1:-1);
    var d=num?parseFloat(x)-parseFloat(y):x.localeCompare(y);
    return (up?d:-d)||tie;
   });
   each(rows,function(r){body.appendChild(r);});
   each(heads,function(h){h.removeAttribute('aria-sort');});
   th.setAttribute('aria-sort',up?'ascending':'descending');
  };
  th.tabIndex=0;
  th.title='sort by '+th.textContent;
  th.addEventListener('click',sort);
  th.addEventListener('keydown',function(e){
   if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
 });
});
})();
)";

}  // namespace

const char* trial_sort_script() {
  return kSortScript;
}

void add_trials(RunFiles& files, RunReport& report) {
  const auto& store = files.trial_store();
  if (!store || store->trials.empty()) {
    report.sections.push_back(
        {"trials", "Trials",
         store ? "<p>No trial yet.</p>"
               : "<p class='warn'>No trials: trials.sqlite is missing or unreadable.</p>"});
    return;
  }
  const std::vector<Trial>& trials = store->trials;
  const std::vector<const Trial*> ranked = ranked_done(trials);
  std::map<int64_t, size_t> rank;
  for (size_t i = 0; i < ranked.size(); ++i) rank[ranked[i]->id] = i + 1;
  std::set<int64_t> front;
  for (const Trial* t : pareto_front(trials)) front.insert(t->id);
  const std::vector<const Trial*> rows = chosen_rows(trials, ranked);
  std::string html = fmt::format(
      "<p>Done trials best first (rank 1 is the incumbent, \u25c6 marks the Pareto front of score "
      "against parameters), then running, pending, failed and pruned ones. Score: {} after the "
      "trial's last epoch; epochs: finished of the trial's fidelity.</p>",
      kScoreLabel);
  const bool hp_column = !same_hyperparameters(trials);
  const std::string hp = hp_text(trials.front().hyperparameters);
  if (!hp_column && !hp.empty()) html += "<p>Every trial trains with " + escape_xml(hp) + ".</p>";
  if (rows.size() < trials.size()) html += left_out_text(trials, rows);
  // data-sort tells the sort script how to compare a column; without scripts it is inert.
  html += fmt::format(
      "<div class='scroll'><table class='trials' data-sortable='1'><thead><tr>"
      "<th data-sort='num'>trial</th><th data-sort='num'>status</th><th data-sort='num'>rank</th>"
      "<th data-sort='num'>score</th><th data-sort='num'>params</th>"
      "<th data-sort='num'>epochs</th><th data-sort='num'>wall (s)</th>{}"
      "<th data-sort='text'>candidate</th><th data-sort='text'>error</th></tr></thead><tbody>",
      hp_column ? "<th data-sort='text'>hyperparameters</th>" : "");
  for (const Trial* t : rows) html += row_html(*t, rank, front, hp_column);
  html += "</tbody></table></div>";
  report.sections.push_back({"trials", "Trials", html});
}

}  // namespace fusenas::nas::report
