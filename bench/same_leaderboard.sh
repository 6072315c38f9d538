#!/usr/bin/env bash
# Does a refactor change what the default sweep computes? Builds fersweep at BASE_REV in a git
# worktree, runs the README's default sweep (search_spaces/default.json, 3 ranks) with it and with
# build/cli/fersweep, and compares every stored number bit for bit: each trial's objective and
# parameter count, every epoch metric, every confusion-matrix cell and per-class report (SQLite's
# quote() prints a REAL with all 17 digits). Needs the dependencies and build/ in place.
#   bash bench/same_leaderboard.sh [BASE_REV]     (default: HEAD; about 8 min build + 2 x 2 min)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_rev="${1:-HEAD}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/base" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$root" worktree add --detach "$work/base" "$base_rev" > /dev/null
cmake -S "$work/base" -B "$work/base/build" -DFERSWEEP_BUILD_TESTS=OFF > /dev/null
cmake --build "$work/base/build" -j2 --target fersweep > /dev/null

dump() {
  sqlite3 "$1" "
    SELECT t.number, e.epoch, e.name, quote(e.value) FROM epoch_metrics e
      JOIN trials t ON t.id = e.trial_id ORDER BY 1, 2, 3;
    SELECT t.number, c.actual, c.predicted, c.count FROM confusion c
      JOIN trials t ON t.id = c.trial_id ORDER BY 1, 2, 3;
    SELECT t.number, r.class_index, r.name, quote(r.precision), quote(r.recall), quote(r.f1),
      r.support FROM class_reports r JOIN trials t ON t.id = r.trial_id ORDER BY 1, 2;
    SELECT number, params_json, status, quote(objective), param_count FROM trials ORDER BY 1;"
}

for side in base new; do
  binary="$root/build/cli/fersweep"
  [ "$side" = base ] && binary="$work/base/build/cli/fersweep"
  FERSWEEP="$binary" DB="$work/$side.db" bash "$root/cluster/mpirun/default-sweep.sh" \
    > "$work/$side.out" 2>&1
  dump "$work/$side.db" > "$work/$side.dump"
  echo "$side ($( [ "$side" = base ] && echo "$base_rev" || echo "working tree")): $(tail -n 1 "$work/$side.out")"
done
if cmp -s "$work/base.dump" "$work/new.dump"; then
  echo "identical: $(wc -l < "$work/new.dump") stored rows, every number bit for bit"
else
  echo "DIFFERENT:"
  diff "$work/base.dump" "$work/new.dump" | head -n 20
  exit 1
fi
