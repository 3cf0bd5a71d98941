#!/usr/bin/env bash
# The browser test of nas_report: a real quick DARTS search, its report loaded by Debian's
# headless Chromium (sections in the DOM, no console errors, a screenshot), a search folder's page
# whose inline script sorts the trial table on header clicks, and --watch following a held run
# lock. Exits 77 (skipped) without chromium.
# Usage: report_browser.sh NAS_DARTS NAS_REPORT WORK_DIR [SEARCH_DIR]
set -euo pipefail
darts=$1 report=$2 work=$3 search=${4:-}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then
  echo "chromium is not installed (scripts/deps.sh installs it); skipped"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
run=$work/run
fail() { echo "FAIL: $*" >&2; exit 1; }

"$darts" --device cpu --threads 1 --train-subset 64 --epochs 2 --warmup-epochs 0 --batch-size 16 \
  --no-progress --out "$run" >"$work/darts.out"
grep -q "^report: nas_report $run" "$work/darts.out" || fail "nas_darts did not print its report line"
"$report" "$run" --out "$work/report.html" >/dev/null

# Chromium wants a writable profile and home; --no-sandbox because tests may run as root.
browser=("$chromium" --headless --disable-gpu --no-sandbox --no-first-run --user-data-dir="$work/profile"
  --enable-logging=stderr --v=0)
export HOME=$work
timeout 120 "${browser[@]}" --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/console.log"
for id in overview result curves architecture alphas config; do
  grep -q "<section id=\"$id\">" "$work/dom.html" || fail "section '$id' missing from the DOM"
done
grep -q "<svg" "$work/dom.html" || fail "no SVG in the DOM"
# The app's invocation line gives the overview its command and machine (the host name at least).
grep -q "<th>command</th><td><code>[^<]*nas_darts --device cpu" "$work/dom.html" ||
  fail "the overview does not show the command line"
grep -q "<th>machine</th><td>host $(uname -n)" "$work/dom.html" || fail "the overview does not show the host"
if grep -E "Uncaught|CONSOLE\(|ERR_FILE_NOT_FOUND|net::ERR" "$work/console.log"; then
  fail "console errors (above)"
fi
timeout 120 "${browser[@]}" --screenshot="$work/report.png" --window-size=1200,2000 \
  "file://$work/report.html" 2>>"$work/console.log" >/dev/null
[[ -s $work/report.png ]] || fail "no screenshot"

# A search page (the random-search fixture of run_report_compare_test: trials 1..4 score 50,
# failed, 70, 65): its script runs without console errors, and header clicks sort the rows (score
# up with the failed trial's empty score last, score down, trial id up), read back from the DOM.
if [[ -n $search ]]; then
  "$report" "$search" --out "$work/search.html" >/dev/null
  timeout 120 "${browser[@]}" --dump-dom "file://$work/search.html" >"$work/search-dom.html" \
    2>"$work/search-console.log"
  for id in overview search trials config; do
    grep -q "<section id=\"$id\">" "$work/search-dom.html" || fail "search section '$id' missing"
  done
  grep -q '<table class="trials sorting"' "$work/search-dom.html" || fail "the sort script did not run"
  clicks="<script>var h=document.querySelectorAll('#trials thead th'),out=[];
function order(){return Array.prototype.map.call(document.querySelectorAll('#trials tbody tr'),
function(r){return r.cells[0].textContent;}).join(',');}
h[3].click();out.push(order());h[3].click();out.push(order());h[0].click();out.push(order());
document.body.setAttribute('data-sorted',out.join(';'));</script></body>"
  page=$(<"$work/search.html")
  printf '%s\n' "${page/<\/body>/$clicks}" >"$work/search-clicks.html"
  timeout 120 "${browser[@]}" --dump-dom "file://$work/search-clicks.html" \
    >"$work/search-clicks-dom.html" 2>>"$work/search-console.log"
  grep -q 'data-sorted="1,4,3,2;3,4,1,2;1,2,3,4"' "$work/search-clicks-dom.html" ||
    fail "header clicks did not sort the trial table: $(grep -o 'data-sorted="[^"]*"' "$work/search-clicks-dom.html")"
  if grep -E "Uncaught|CONSOLE\(|ERR_FILE_NOT_FOUND|net::ERR" "$work/search-console.log"; then
    fail "console errors on the search page (above)"
  fi
fi

# --watch: while run.lock is held the page reloads itself; when the lock goes, the last page does
# not and nas_report exits.
flock "$run/run.lock" sleep 4 &
holder=$!
sleep 1
timeout 30 "$report" "$run" --watch --interval 1 --out "$work/watch.html" >"$work/watch.out" &
watcher=$!
sleep 1.5
grep -q "http-equiv=.refresh. content=.1." "$work/watch.html" || fail "no refresh while the run is live"
grep -q "state-running" "$work/watch.html" || fail "a held lock is not shown as running"
wait "$holder"
wait "$watcher" || fail "nas_report --watch did not exit cleanly after the run ended"
grep -q "http-equiv=.refresh" "$work/watch.html" && fail "the final page still reloads"
grep -q "state-finished" "$work/watch.html" || fail "the final page does not say finished"
echo "report_browser: ok ($work/report.png)"
