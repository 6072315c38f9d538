#!/usr/bin/env bash
# Pipeline overhead: a fersweep trial's training epoch (batch assembly with flip + shift, the
# step, training metrics) against the pure forward/backward/Adam step on tensors already in
# memory, for the seed's modified VGG at 48x48, batch 64, one thread. Prints one Markdown row.
#   bash bench/pipeline_overhead.sh [build dir]          (about 2 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/${1:-build}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
cat > "$work/spec.json" <<JSON
{"name": "pipeline", "method": "grid", "seed": 1, "epochs": 2,
 "metric": {"name": "val_accuracy", "goal": "maximize"},
 "data": {"train_size": 4000, "val_size": 64, "image_size": 48, "seed": 1},
 "resources": {"threads_per_worker": 1},
 "parameters": {"arch": {"value": "vgg_custom"}, "dense": {"value": [64, 64]},
                "dense_batch_norm": {"value": true}, "batch_size": {"value": 64},
                "optimizer": {"value": "adam"}}}
JSON
"$build/cli/fersweep" run "$work/spec.json" --db "$work/sweep.db" --quiet --checkpoints none > /dev/null
trial_rate=$("$build/cli/fersweep" results --db "$work/sweep.db" show 1 --json |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_second"])')
step_ms=$(mpiexec --oversubscribe -n 1 "$build/bench/sync_bench" --batch 64 --steps 40 --adam 1 |
  sed -n 's/^| no sync (compute only) | - | \([0-9.]*\) |.*/\1/p')
/usr/bin/python3 -c "
pure = 64 / ($step_ms / 1000)
print('| trial epoch (images/s) | pure step on resident tensors (images/s) | overhead |')
print('|---:|---:|---:|')
print(f'| {$trial_rate:.0f} | {pure:.0f} | {pure / $trial_rate:.2f}x |')"
