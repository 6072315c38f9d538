#!/usr/bin/env bash
# Training throughput, fersweep against PyTorch eager in Python (Debian's python3-torch, the same
# 1.13 as libtorch-dev), side by side in one command: the seed report's modified VGG and
# MobileNetV2 at 48x48, batch 64, Adam, flip + 2 px shift augmentation, 4,000 images, 2 epochs,
# the same thread count. PyTorch runs twice: the plain eager loop, and with the model in
# channels-last as fersweep's trainer keeps it. Prints a Markdown table for docs/BENCHMARKS.md.
#   bash bench/train_vs_pytorch.sh [build dir] [threads]      (about 3 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/${1:-build}/cli/fersweep"
threads="${2:-1}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/spec.json" <<JSON
{
  "name": "throughput", "method": "grid", "seed": 1, "epochs": 2,
  "metric": {"name": "val_accuracy", "goal": "maximize"},
  "data": {"train_size": 4000, "val_size": 70, "image_size": 48, "seed": 1},
  "resources": {"threads_per_worker": $threads},
  "parameters": {
    "arch": {"values": ["vgg_custom", "mobilenet_v2"]},
    "filters": {"value": [32, 64, 128, 256], "when": {"arch": "vgg_custom"}},
    "convs_per_block": {"value": 2, "when": {"arch": "vgg_custom"}},
    "dense": {"value": [64, 64], "when": {"arch": "vgg_custom"}},
    "dense_batch_norm": {"value": true, "when": {"arch": "vgg_custom"}},
    "dropout": {"value": 0.5, "when": {"arch": "vgg_custom"}},
    "batch_size": {"value": 64}, "lr": {"value": 0.001}, "optimizer": {"value": "adam"}
  }
}
JSON
"$bin" run "$work/spec.json" --db "$work/sweep.db" --checkpoints none --quiet > /dev/null
echo "| network | parameters | fersweep (images/s) | PyTorch eager (images/s) | ratio | PyTorch eager, channels-last (images/s) | ratio |"
echo "|---|---|---|---|---|---|---|"
for id in 1 2; do
  read -r arch params ours < <("$bin" results --db "$work/sweep.db" show "$id" --json |
    /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["params"]["arch"], t["param_count"], t["images_per_second"])')
  read -r _ ref_params theirs < <(/usr/bin/python3 "$root/bench/train_reference.py" --arch "$arch" --threads "$threads")
  read -r _ _ theirs_nhwc < <(/usr/bin/python3 "$root/bench/train_reference.py" --arch "$arch" --threads "$threads" --channels-last)
  if [ "$params" != "$ref_params" ]; then echo "parameter counts differ: $params vs $ref_params" >&2; exit 1; fi
  /usr/bin/python3 -c "print(f'| $arch | {$params:,} | {$ours:.0f} | {$theirs:.0f} | {$ours / $theirs:.2f} | {$theirs_nhwc:.0f} | {$ours / $theirs_nhwc:.2f} |')"
done
