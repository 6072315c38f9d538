#!/usr/bin/env bash
# The dashboard under load (issue 23): `fersweep serve` on a 100,000-trial database, 8 clients
# for 20 s asking for sweep summaries, leaderboard pages and trials as fast as it answers; then a
# sweep's own throughput (2 workers; Branin alone, and Branin plus 10 ms per trial) without and
# with 8 dashboards polling it every 2 s.
# Prints Markdown tables.
#
#   bash bench/dashboard_load.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
bin="$build/cli/fersweep"
load="$build/bench/dashboard_load"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

spec() {  # spec NAME TRIALS [SECONDS_PER_EPOCH]
  cat > "$work/$1.json" <<JSON
{"name": "$1", "method": "random", "seed": 1, "epochs": 1,
 "metric": {"name": "value", "goal": "minimize"}, "budget": {"trials": $2},
 "benchmark": {"function": "branin", "seconds_per_epoch": ${3:-0}},
 "parameters": {"x1": {"distribution": "uniform", "min": -5, "max": 10},
                "x2": {"distribution": "uniform", "min": 0, "max": 15}}}
JSON
  echo "$work/$1.json"
}

serve() {  # serve DB: starts the server, sets $server and $port
  "$bin" serve --db "$1" --port 0 > "$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" 2>/dev/null | sed 's/.*://' || true)
    [ -n "$port" ] && return
    sleep 0.1
  done
  echo "serve did not start" >&2; exit 1
}

rate() {  # of the newest sweep in the database
  /usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
n, span = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*), max(finished_at) - min(started_at) FROM trials WHERE status = 'finished' "
    "AND sweep_id = (SELECT max(id) FROM sweeps)").fetchone()
print(f"{n / span:.0f}")
PY
}

big="$work/hundred_thousand.db"
"$bin" run "$(spec hundred_thousand 100000)" --db "$big" --quiet --checkpoints none > /dev/null
serve "$big"
echo "## The dashboard on a 100,000-trial sweep: 8 clients, 20 s, $(nproc) cores"
echo
echo "| endpoint | requests | rate | p50 (ms) | p95 (ms) | max (ms) |"
echo "|---|---:|---:|---:|---:|---:|"
"$load" "$port" 8 20 100000
kill $server; wait $server 2>/dev/null || true; server=""

echo
# The server and its clients start before the measured sweep (process start-up would otherwise
# land in a sweep that lasts seconds): a one-trial sweep makes the database, the measured sweep is
# the second in it.
echo "## A sweep's throughput with dashboards watching (2 workers)"
echo
echo "| trials | dashboards polling every 2 s | trials/s |"
echo "|---|---:|---:|"
for work_per_trial in 0 0.01; do
  trials=20000
  [ "$work_per_trial" != 0 ] && trials=1000
  for watchers in 0 8; do
    db="$work/watched_${work_per_trial}_$watchers.db"
    "$bin" run "$(spec "first_${work_per_trial}_$watchers" 1)" --db "$db" --quiet --checkpoints none > /dev/null
    if [ "$watchers" -gt 0 ]; then
      serve "$db"
      "$load" "$port" "$watchers" 600 $trials 2000 2 > /dev/null 2>&1 &
      poller=$!
      sleep 1
    fi
    mpiexec --oversubscribe -n 3 "$bin" run "$(spec "watched_${work_per_trial}_$watchers" $trials $work_per_trial)" \
      --db "$db" --quiet --checkpoints none > /dev/null
    if [ "$watchers" -gt 0 ]; then
      kill $poller 2>/dev/null || true
      kill $server; wait $server 2>/dev/null || true; server=""
    fi
    label="$trials of Branin"
    [ "$work_per_trial" != 0 ] && label="$trials of Branin + 10 ms"
    echo "| $label | $watchers | $(rate "$db") |"
  done
done
