#!/usr/bin/env bash
# What each network costs on this machine: `fersweep models` for every architecture and stem,
# then the memory check's estimate for batch 64 against the peak measured in the timed step.
# Figures in docs/MODELS.md and docs/BENCHMARKS.md come from this script.
#   bash bench/models.sh [build dir]        (about 2 minutes on 2 cores)
set -euo pipefail
build=${1:-build}
bin="$build/cli/fersweep"
out=$(mktemp -d)
"$bin" models --classes 6 | tee "$out/table.txt"
"$bin" models --classes 6 --batch 0 --json > "$out/costs.json"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = json.load(open(f"{out}/costs.json"))
table = [line.split() for line in open(f"{out}/table.txt").read().splitlines()[2:]]
print("\n| arch | stem | estimate MiB (batch 64, Adam) | measured peak MiB | error |")
print("|---|---|---|---|---|")
for r, t in zip(rows, table):
    estimate = (r["fixed_training_bytes"] + 64 * r["training_bytes_per_image"]
                + 2 * 4 * r["parameters"]) / 2**20
    peak = float(t[-1])
    print(f"| {r['arch']} | {r['stem']} | {estimate:.0f} | {peak:.0f} | "
          f"{100 * (estimate - peak) / peak:+.0f} % |")
PY
rm -rf "$out"
