#!/usr/bin/env bash
# Data sweeps on synthetic files in the real formats: 3,000 FER2013-style close-ups (rare
# disgust) and 400 JAFFE-style wide portraits. Runs one example spec under mpirun and prints,
# per trial, the swept parameters, validation accuracy, macro F1, Disgust recall and per-class F1.
# The tables in docs/DATA.md come from here.
#   bash bench/data_sweep.sh [build dir] [spec]   (spec in search_spaces/examples/; default
#   fer_sources_crop.json, the seed report's decisions; fer_class_balance.json: augmentation x
#   class balance). About 3 minutes each on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/${1:-build}/cli/fersweep"
spec="$root/search_spaces/examples/${2:-fer_sources_crop.json}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" data synth --format fer2013 --count 3000 --seed 1 --out "$work/fer2013.csv"
"$bin" data synth --format jaffe --count 400 --seed 2 --out "$work/jaffe"
sed "s|@DATA@|$work|g" "$spec" > "$work/spec.json"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
start=$(date +%s)
mpirun -n 3 --oversubscribe "$bin" run "$work/spec.json" --db "$work/sweep.db" \
  --checkpoints none --quiet > /dev/null
echo "sweep wall time: $(( $(date +%s) - start )) s"
for id in $("$bin" results --db "$work/sweep.db" rank --top 100 --json |
            /usr/bin/python3 -c 'import json,sys; print(*[t["trial"] for t in json.load(sys.stdin)["trials"]])'); do
  "$bin" results --db "$work/sweep.db" show "$id" --json > "$work/trial_$id.json"
done
/usr/bin/python3 - "$work" <<'PY'
import glob, json, sys
trials = [json.load(open(f)) for f in glob.glob(f"{sys.argv[1]}/trial_*.json")]
show = lambda v: "-" if v is None else "+".join(map(str, v)) if isinstance(v, list) else str(v)
swept = sorted(k for k in trials[0]["params"]
               if len({json.dumps(t["params"].get(k)) for t in trials}) > 1)
print("| " + " | ".join(swept) + " | val acc | macro F1 | Disgust recall | per-class F1 |")
print("|" + "---|" * (len(swept) + 4))
for t in sorted(trials, key=lambda t: [json.dumps(t["params"].get(k)) for k in swept]):
    m = t["metrics"]
    disgust = [c["recall"] for c in t["per_class"] if c["name"] == "Disgust"]
    f1 = ", ".join(f"{c['name']} {c['f1']:.2f}" for c in t["per_class"])
    print("| " + " | ".join(show(t["params"].get(k)) for k in swept) +
          f" | {m['val_accuracy']:.3f} | {m['val_macro_f1']:.3f} | "
          f"{f'{disgust[0]:.2f}' if disgust else 'merged'} | {f1} |")
PY
