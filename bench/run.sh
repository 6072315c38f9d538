#!/usr/bin/env bash
# Every performance comparison of docs/BENCHMARKS.md in one command, printing the tables:
#
#   bash bench/run.sh [BUILD_DIR]   (relative to the repository; about 125 minutes on 2 cores,
#                                   100 of them step 8)
#
# 1. training throughput against PyTorch eager (bench/train_vs_pytorch.sh, 1 thread)
# 2. coordinator throughput against Optuna 3.1, TPE latency, 100k-trial memory
#    (bench/coordinator_throughput.sh)
# 3. gradient synchronisation in a gang of two (build/bench/sync_bench under mpiexec)
# 4. batch assembly (build/bench/batch_bench)
# 5. pipeline overhead of a training epoch (bench/pipeline_overhead.sh)
# 6. every model's step time, tensor peak and process RSS at batch 64 (fersweep models)
# 7. every model's training rate against the fp32 rate LibTorch attains
#    (bench/training_efficiency.py), oneDNN's convolutions on a ResNet's small maps in both
#    layouts (bench/conv_small_maps.py), and the ResNets' steps without batch norm, ReLU and
#    optimizer, the ceiling of fusing them (bench/norm_ablation.py, 5 minutes)
# 8. time to a good model against Optuna + PyTorch, 4 seeds of 10 minutes a side, fersweep with
#    cost-aware ASHA and its report deadline (bench/time_to_quality.py; its fourth run in
#    docs/BENCHMARKS.md)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-build}"
build="$root/$build_dir"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
"$root/cluster/install-deps.sh" --bench > /dev/null
cmake --build "$build" -j"$(nproc)" \
  --target fersweep sync_bench tpe_latency batch_bench gemm_rate > /dev/null
echo "# fersweep benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1))"
echo
echo "## Training throughput against PyTorch eager (1 thread)"
echo
bash "$root/bench/train_vs_pytorch.sh" "$build_dir" 1
echo
bash "$root/bench/coordinator_throughput.sh" "$build" 2000
echo
echo "## Gradient synchronisation in a gang of two"
echo
mpiexec --oversubscribe -n 2 "$build/bench/sync_bench" --steps 40
echo
echo "## Batch assembly (1 thread)"
echo
"$build/bench/batch_bench" --threads 1
echo
echo "## Pipeline overhead (modified VGG, batch 64, 1 thread)"
echo
bash "$root/bench/pipeline_overhead.sh" "$build_dir"
echo
echo "## Every model at batch 64, 1 thread"
echo
"$build/cli/fersweep" models --batch 64 --threads 1
echo
echo "## Training against the machine's limit (1 thread)"
echo
/usr/bin/python3 "$root/bench/training_efficiency.py" --fersweep "$build/cli/fersweep" \
  --gemm-rate "$build/bench/gemm_rate" --threads 1
echo
/usr/bin/python3 "$root/bench/conv_small_maps.py"
echo
/usr/bin/python3 "$root/bench/norm_ablation.py" --fersweep "$build/cli/fersweep" \
  --gemm-rate "$build/bench/gemm_rate" --rounds 3
echo
echo "## Time to a good model against Optuna + PyTorch (2 workers of 1 thread)"
echo
/usr/bin/python3 "$root/bench/time_to_quality.py" --fersweep "$build/cli/fersweep" --seeds 4 \
  --first-seed 8 --minutes 10 --resource seconds --min-seconds 10 --report-deadline --target 0.819
