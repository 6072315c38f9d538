#!/usr/bin/env bash
# Coordinator throughput on the benchmark objective (no training): fersweep under mpiexec with
# 1, 2 and 4 workers against Optuna 3.1 with SQLite storage and as many worker processes, the
# same Branin objective and random sampler; then TPE suggestion latency, and the coordinator's
# memory and cost per trial over a 100,000-trial sweep. Prints Markdown tables.
#
#   bash bench/coordinator_throughput.sh [BUILD_DIR] [TRIALS]     (defaults: build 2000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
trials="${2:-2000}"
bin="$build/cli/fersweep"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

spec() {  # spec NAME TRIALS
  cat > "$work/$1.json" <<JSON
{"name": "$1", "method": "random", "seed": 1, "epochs": 1,
 "metric": {"name": "value", "goal": "minimize"}, "budget": {"trials": $2},
 "benchmark": {"function": "branin"},
 "parameters": {"x1": {"distribution": "uniform", "min": -5, "max": 10},
                "x2": {"distribution": "uniform", "min": 0, "max": 15}}}
JSON
  echo "$work/$1.json"
}

# Finished trials per second from the first start to the last finish, as the database holds them.
rate() {
  /usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
n, span = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*), max(finished_at) - min(started_at) FROM trials WHERE status = 'finished'").fetchone()
print(f"{n} {span:.3f} {n / span:.1f}")
PY
}

echo "## Coordinator throughput: $trials trials of Branin, random sampler, $(nproc) cores"
echo
echo "| workers | fersweep (trials/s) | Optuna 3.1 + SQLite (trials/s) | ratio |"
echo "|---:|---:|---:|---:|"
for workers in 1 2 4; do
  db="$work/fersweep_$workers.db"
  mpiexec --oversubscribe -n $((workers + 1)) "$bin" run "$(spec throughput_$workers "$trials")" \
    --db "$db" --quiet --checkpoints none > /dev/null
  read -r _ _ ours < <(rate "$db")
  read -r _ _ theirs < <(/usr/bin/python3 "$root/bench/optuna_throughput.py" "$workers" "$trials")
  /usr/bin/python3 -c "print(f'| $workers | {$ours:.0f} | {$theirs:.1f} | {$ours / $theirs:.0f}x |')"
done

echo
echo "## TPE suggestion latency (6 parameters: 4 uniform, 1 log-uniform, 1 categorical)"
echo
"$build/bench/tpe_latency" 100 1000 10000

echo
echo "## One coordinator over 100,000 trials (in-process, trivial objective)"
echo
db="$work/hundred_thousand.db"
/usr/bin/time -f "%M %e" -o "$work/time.txt" "$bin" run "$(spec hundred_thousand 100000)" \
  --db "$db" --quiet --checkpoints none > /dev/null
read -r rss_kb seconds < "$work/time.txt"
/usr/bin/python3 -c "print(f'| trials | wall time (s) | per trial (ms) | peak RSS (MiB) | database (MiB) |'); print('|---:|---:|---:|---:|---:|'); print(f'| 100,000 | {$seconds:.1f} | {1000 * $seconds / 100000:.3f} | {$rss_kb / 1024:.0f} | {$(stat -c %s "$db") / 2**20:.0f} |')"
