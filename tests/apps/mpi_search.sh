#!/usr/bin/env bash
# nas_search under mpirun on this machine (ranks oversubscribe its cores): rank 0 runs the search
# and worker ranks train the children. Usage: mpi_search.sh <mpirun> <nas_search> <work dir> <case>
#   equal  - a fixed-seed --parallel sync RL run over 2 workers asks and scores exactly what one
#            process does;
#   async  - an async run of 3 workers records every trial of its budget once, all done;
#   resume - a job killed mid-search (one rank killed ends it) resumes with --resume: the trials
#            done before the kill keep their results and ran once, the rest complete.
set -euo pipefail
mpirun=$1 search=$2 work=$3 case=$4
rm -rf "$work" && mkdir -p "$work"
# Containers often run tests as root, which Open MPI refuses unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
py=/usr/bin/python3
tiny=(--strategy rl --space zoph-le --space-options '{"layers": 3}' --epochs 1 --train-subset 800
  --downscale 2 --threads 1 --no-progress --seed 5 --rl-children 2 --rl-lr 0.05)

# "id status attempts candidate score" per trial, in id order.
trials() {
  "$py" - "$1/trials.sqlite" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in db.execute("PRAGMA table_info(trials)")]
for row in db.execute("SELECT * FROM trials ORDER BY id"):
    t = dict(zip(cols, row))
    print(t["id"], t["status"], t["attempts"], json.dumps(json.loads(t["candidate"]), sort_keys=True), t["score"])
PY
}

case $case in
  equal)
    "$search" "${tiny[@]}" --budget-trials 6 --out "$work/one" > "$work/one.log"
    "$mpirun" -np 3 "$search" "${tiny[@]}" --budget-trials 6 --parallel sync --out "$work/mpi" \
      > "$work/mpi.log"
    grep -q "2 worker ranks train the trials (sync, batches of 2)" "$work/mpi.log"
    trials "$work/one" > "$work/one.txt"
    trials "$work/mpi" > "$work/mpi.txt"
    [[ $(wc -l < "$work/one.txt") -eq 6 ]]
    diff "$work/one.txt" "$work/mpi.txt"
    ;;
  async)
    "$mpirun" -np 4 "$search" "${tiny[@]}" --budget-trials 7 --out "$work/run" > "$work/run.log"
    grep -q "3 worker ranks train the trials (async)" "$work/run.log"
    trials "$work/run" > "$work/trials.txt"
    [[ $(cut -d' ' -f1 "$work/trials.txt" | tr '\n' ' ') == "1 2 3 4 5 6 7 " ]]
    [[ $(grep -c ' done 1 ' "$work/trials.txt") -eq 7 ]]
    for w in 1 2 3; do grep -q "worker $w of 3" "$work/run/worker-$w.log"; done
    ;;
  resume)
    # 24 trials: after the first 3 are done, the rest take seconds, far longer than the kill.
    "$mpirun" -np 3 "$search" "${tiny[@]}" --budget-trials 24 --out "$work/run" \
      > "$work/first.log" 2>&1 &
    job=$!
    # Wait for 3 done trials, then kill one worker rank: MPI ends the whole job.
    for _ in $(seq 600); do
      if [[ -f $work/run/trials.sqlite ]] &&
        [[ $(trials "$work/run" 2>/dev/null | grep -c ' done ' || true) -ge 3 ]]; then break; fi
      sleep 0.2
    done
    trials "$work/run" | grep ' done ' > "$work/before.txt"
    [[ $(wc -l < "$work/before.txt") -ge 3 ]]
    pkill -9 -n -f -- "--out $work/run"  # the newest process of the job: a rank
    wait "$job" && { echo "the job survived a killed rank"; exit 1; }
    killed=$(trials "$work/run" | grep -c ' done ' || true)
    [[ $killed -lt 24 ]] || { echo "the search ended before the kill"; exit 1; }
    "$mpirun" -np 3 "$search" --resume "$work/run" --threads 1 --no-progress > "$work/second.log"
    trials "$work/run" > "$work/after.txt"
    [[ $(wc -l < "$work/after.txt") -eq 24 ]]
    [[ $(grep -c ' done ' "$work/after.txt") -eq 24 ]]
    # Trials done before the kill keep their candidate and score and were not run again.
    while read -r line; do grep -qxF -- "$line" "$work/after.txt"; done < "$work/before.txt"
    grep -q "resuming after $killed ended trials; [0-9]* interrupted trial(s) run again" \
      "$work/second.log"
    ;;
  *)
    echo "unknown case $case" >&2
    exit 2
    ;;
esac
echo "mpi_search $case: ok"
