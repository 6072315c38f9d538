#!/usr/bin/env bash
# The data decisions of the seed report as one sweep on synthetic files in the real formats:
# FER2013-style close-ups (rare disgust) with or without JAFFE-style wide portraits, anger and
# disgust separate or merged, no crop or a face crop. Prints each trial's validation accuracy,
# macro F1 and per-class F1; the table in docs/DATA.md comes from here.
#   bash bench/data_sweep.sh [build dir]      (about 3 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/${1:-build}/cli/fersweep"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" data synth --format fer2013 --count 3000 --seed 1 --out "$work/fer2013.csv"
"$bin" data synth --format jaffe --count 400 --seed 2 --out "$work/jaffe"
sed "s|@DATA@|$work|g" "$root/search_spaces/examples/fer_sources_crop.json" > "$work/spec.json"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mpirun -n 3 --oversubscribe "$bin" run "$work/spec.json" --db "$work/sweep.db" \
  --checkpoints none --quiet > /dev/null
for id in $("$bin" results --db "$work/sweep.db" rank --top 100 --json |
            /usr/bin/python3 -c 'import json,sys; print(*[t["trial"] for t in json.load(sys.stdin)["trials"]])'); do
  "$bin" results --db "$work/sweep.db" show "$id" --json > "$work/trial_$id.json"
done
/usr/bin/python3 - "$work" <<'PY'
import glob, json, sys
trials = [json.load(open(f)) for f in glob.glob(f"{sys.argv[1]}/trial_*.json")]
print("| sources | grouping | crop | val acc | macro F1 | per-class F1 |")
print("|---|---|---|---|---|---|")
key = lambda t: (len(t["params"]["sources"]), t["params"]["grouping"], t["params"]["crop"])
for t in sorted(trials, key=key):
    p, m = t["params"], t["metrics"]
    f1 = ", ".join(f"{c['name']} {c['f1']:.2f}" for c in t["per_class"])
    print(f"| {'+'.join(p['sources'])} | {p['grouping']} | {p['crop']} | "
          f"{m['val_accuracy']:.3f} | {m['val_macro_f1']:.3f} | {f1} |")
PY
