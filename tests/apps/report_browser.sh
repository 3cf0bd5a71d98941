#!/usr/bin/env bash
# The browser test of nas_report: a real quick DARTS search, its report loaded by Debian's
# headless Chromium (sections in the DOM, no console errors, a screenshot), and --watch following
# a held run lock. Exits 77 (skipped) without chromium.
# Usage: report_browser.sh NAS_DARTS NAS_REPORT WORK_DIR
set -euo pipefail
darts=$1 report=$2 work=$3
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
if grep -E "Uncaught|CONSOLE\(|ERR_FILE_NOT_FOUND|net::ERR" "$work/console.log"; then
  fail "console errors (above)"
fi
timeout 120 "${browser[@]}" --screenshot="$work/report.png" --window-size=1200,2000 \
  "file://$work/report.html" 2>>"$work/console.log" >/dev/null
[[ -s $work/report.png ]] || fail "no screenshot"

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
