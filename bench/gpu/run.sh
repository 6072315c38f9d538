#!/usr/bin/env bash
# The GPU benchmarks of issue 11, in one command on one GPU node, after cluster/gpu/build.sh:
#   1. images/s of the modified VGG, ResNet18 and MobileNetV2 at 48x48, batch 256: one fersweep
#      trial each (bf16, channels-last) against bench/gpu/train_reference_gpu.py (PyTorch 2.x,
#      torch.compile, bf16 autocast, data on the GPU), and the model FLOP utilisation of each
#      against the bf16 matrix rate measured here;
#   1b. the modified VGG again with every augmentation (rotation, colour, erasing), made on the GPU
#      by worker/device_augment.cc, against its flip-and-shift figure;
#   2. sweep throughput (trials/hour, 5-epoch trials on synthetic data) with
#      resources.trials_per_gpu = 1, 2, 4, 8 (mpirun -n 1+T);
#   3. one training step through the NCCL communicator at world size 1 (sync_bench --nccl), run
#      first: it is the shortest and says whether the NCCL path works at all.
#   bash bench/gpu/run.sh [BUILD_DIR]                       (default build-gpu)
# Each part runs as its own process (the script calls itself with the part's name), so one that
# fails says so and the parts after it still run: on a node lent for minutes, a broken part must
# not cost the figures of the others.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$root/build-gpu}" && pwd)"
part="${2:-}"
bin="$build/cli/fersweep"
# PATH and library paths of the libraries cluster/gpu/build.sh unpacked, if it did.
# shellcheck disable=SC1091
[ ! -f "$build/env.sh" ] || . "$build/env.sh"
python=${PYTHON:-python3}
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

if [ -z "$part" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  export FERSWEEP_GPU_BENCH_WORK="$work"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
  run_part() { bash "${BASH_SOURCE[0]}" "$build" "$@" || echo "run.sh: part '$*' failed (exit $?)"; }
  run_part matrix_rate
  echo
  run_part nccl
  echo
  echo "| network | parameters | fersweep (images/s) | PyTorch 2.x compiled (images/s) | ratio | fersweep MFU |"
  echo "|---|---|---|---|---|---|"
  for arch in vgg_custom resnet18 mobilenet_v2; do run_part throughput "$arch"; done
  run_part augmentation
  echo
  echo "| trials_per_gpu | trials | wall (s) | trials/hour | against 1 | a trial (s) | its epochs (s) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  for t in 1 2 4 8; do run_part packing "$t"; done
  exit 0
fi
work="$FERSWEEP_GPU_BENCH_WORK"
images=20480  # training images of the throughput and augmentation sweeps

spec() {  # name arch trials_per_gpu trials epochs images [extra parameters, JSON members]
  # The head of the report's modified VGG; a "when" on another arch is refused as never holding.
  local head=""
  [ "$2" != vgg_custom ] || head=', "dense": {"value": [64, 64]}, "dense_batch_norm": {"value": true}'
  cat > "$work/$1.json" <<JSON
{"name": "$1", "method": "grid", "seed": 1, "epochs": $5,
 "budget": {"trials": $4}, "metric": {"name": "val_accuracy", "goal": "maximize"},
 "data": {"train_size": $6, "val_size": 1024, "image_size": 48, "seed": 1},
 "resources": {"precision": "bf16", "trials_per_gpu": $3},
 "parameters": {"arch": {"value": "$2"}, "batch_size": {"value": 256},
                "lr": {"values": [0.001, 0.0005, 0.002, 0.0003, 0.003, 0.0001, 0.0007, 0.0015]},
                "optimizer": {"value": "adam"}$head${7:+, $7}}}
JSON
}

# Runs sweep NAME (its spec written by spec), under a launcher if given ("mpirun -n 3"); every
# trial must finish, else the part fails showing the trials' errors and the end of the run's log.
sweep() {  # name [launcher words]
  local name="$1"
  shift
  "$@" "$bin" run "$work/$name.json" --db "$work/$name.db" --checkpoints none \
    > "$work/$name.log" 2>&1 || { tail -n 30 "$work/$name.log" >&2; return 1; }
  "$bin" results --db "$work/$name.db" list --json | "$python" -c '
import json, sys
bad = [t for t in json.load(sys.stdin)["trials"] if t["status"] != "finished"]
for t in bad: print("trial %s: %s: %s" % (t["trial"], t["status"], t["error"]), file=sys.stderr)
sys.exit(1 if bad else 0)' || { tail -n 30 "$work/$name.log" >&2; return 1; }
}

# Training images/s of trial 1 of a sweep of $images training images. Like the reference, over
# the epochs after the first, which pays cuDNN autotuning and lazy CUDA set-up; each epoch's seconds
# include its validation pass, which the reference has none of.
images_per_second() {  # db
  "$bin" results --db "$1" show 1 --json | "$python" -c 'import json,sys
later = json.load(sys.stdin)["epochs"][1:]
print(int(sys.argv[1]) * len(later) / sum(e["seconds"] for e in later))' "$images"
}

# Mean seconds per trial of a sweep, "wall epochs": from its start to its result, and within that
# its epochs (training and validation); the rest is set-up (data, the memory measurement, model
# and optimiser) and the test pass.
trial_seconds() {  # db
  "$bin" results --db "$1" list --json | "$python" -c '
import json, subprocess, sys
trials = [json.loads(subprocess.check_output([sys.argv[1], "results", "--db", sys.argv[2], "show",
                                              str(t["trial"]), "--json"]))
          for t in json.load(sys.stdin)["trials"]]
wall = sum(t["wall_seconds"] for t in trials) / len(trials)
epochs = sum(e["seconds"] for t in trials for e in t["epochs"]) / len(trials)
print(f"{wall:.1f} {epochs:.1f}")' "$bin" "$1"
}

case "$part" in
  matrix_rate)
    "$python" -c '
import torch, time
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16); b = torch.randn_like(a)
for _ in range(3): a @ b
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(20): a @ b
torch.cuda.synchronize(); print(f"{20 * 2 * 8192**3 / (time.perf_counter() - t) / 1e12:.1f}")' \
      > "$work/tflops"
    echo "bf16 matrix rate measured: $(cat "$work/tflops") TFLOP/s"
    ;;
  nccl)
    mpirun -n 1 "$build/bench/sync_bench" --steps 20 --nccl 1
    ;;
  throughput)
    arch="$3"
    tflops=$(cat "$work/tflops")
    spec "$arch" "$arch" 1 1 3 "$images"
    sweep "$arch"
    ours=$(images_per_second "$work/$arch.db")
    # The trial's parameter count and its config, one line each.
    { read -r params; read -r trial_params; } < <("$bin" results --db "$work/$arch.db" show 1 --json |
      "$python" -c 'import json,sys; t=json.load(sys.stdin); print(t["param_count"]); print(json.dumps(t["params"]))')
    read -r _ ref_params theirs < <("$python" "$root/bench/gpu/train_reference_gpu.py" --arch "$arch")
    if [ "$params" != "$ref_params" ]; then
      echo "$arch: parameter counts differ: $params vs $ref_params" >&2
      exit 1
    fi
    flops=$("$bin" models --params "$trial_params" --batch 0 --json |
      "$python" -c 'import json,sys; print(json.load(sys.stdin)[0]["forward_flops"])')
    "$python" -c "print(f'| $arch | {$params:,} | {$ours:.0f} | {$theirs:.0f} | {$ours / $theirs:.2f} | {3 * $flops * $ours / ($tflops * 1e12):.1%} |')"
    ;;
  augmentation)
    spec augmented vgg_custom 1 1 3 "$images" '"rotation": {"value": 10}, "brightness": {"value": 0.2},
      "contrast": {"value": 0.2}, "erasing": {"value": 0.25}'
    sweep augmented
    plain=$(images_per_second "$work/vgg_custom.db")
    augmented=$(images_per_second "$work/augmented.db")
    "$python" -c "print(f'\nvgg_custom, every augmentation on the GPU: {$augmented:.0f} images/s, {$augmented / $plain:.2f}x flip + shift ({$plain:.0f})')"
    ;;
  packing)
    t="$3"
    spec "pack$t" vgg_custom "$t" $((2 * t)) 5 8192
    start=$(date +%s.%N)
    sweep "pack$t" mpirun --oversubscribe -n $((1 + t))
    wall=$("$python" -c "import time; print(time.time() - $start)")
    rate=$("$python" -c "print(3600 * $((2 * t)) / $wall)")
    [ -f "$work/single_rate" ] || echo "$rate" > "$work/single_rate"
    single=$(cat "$work/single_rate")
    read -r trial_wall trial_epochs < <(trial_seconds "$work/pack$t.db")
    "$python" -c "print(f'| $t | $((2 * t)) | {$wall:.1f} | {$rate:.0f} | {$rate / $single:.2f}x | $trial_wall | $trial_epochs |')"
    ;;
  *)
    echo "run.sh: unknown part $part" >&2
    exit 2
    ;;
esac
