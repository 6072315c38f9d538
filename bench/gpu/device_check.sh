#!/usr/bin/env bash
# Everything a short loan of a GPU node is for, in one command: what the node has, the CUDA
# build (cluster/gpu/build.sh, from the .debs of cluster/gpu/fetch-debs.sh where the node lacks
# libraries), then the GPU benchmarks (bench/gpu/run.sh). Each step writes into OUT as it goes,
# so a run cut off by a time limit still returns what the steps before it found; a failed build
# is rebuilt with make -k so that one run shows every compile error, not the first target's.
#   OUT=DIR bash bench/gpu/device_check.sh            (default OUT: ./gpu-out)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-$root/gpu-out}"
build="$root/build-gpu"
mkdir -p "$out"
cd "$root" || exit 1
# One node: Open MPI's shared-memory transport alone, without probing fabrics the node doesn't
# have, and without the single-copy (ptrace-based) path that virtual machines may refuse.
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
# The H200 node's own PMIx zlib plugin does not load beside the carried Open MPI; PMIx then
# prints a banner per process that buried the figures of the first run.
export PMIX_MCA_pcompress_base_silence_warning=1

{
  date -u
  grep PRETTY_NAME /etc/os-release
  echo "cores: $(nproc)"
  c++ --version | head -n 1
  cmake --version | head -n 1
  nvcc --version | tail -n 1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      torch.cuda.get_device_name())'
} > "$out/node.txt" 2>&1  # build.sh says in build.log which libraries the node lacks

start=$(date +%s)
bash cluster/gpu/build.sh --build "$build" > "$out/build.log" 2>&1
built=$?
# shellcheck disable=SC1091  # the unpacked libraries' paths, if build.sh got that far
[ ! -f "$build/env.sh" ] || . "$build/env.sh"
if ((built != 0)); then
  echo "build failed after $(($(date +%s) - start)) s" >> "$out/node.txt"
  if [ -f "$build/Makefile" ]; then
    cmake --build "$build" -j"$(nproc)" -- -k > "$out/build-k.log" 2>&1
    grep -E -A3 "error|Error [0-9]|undefined reference" "$out/build-k.log" | head -n 400 \
      > "$out/errors.txt"
  fi
  exit 1
fi
{
  echo "build: $(($(date +%s) - start)) s"
  # A library the carried .debs assumed the node has shows here first.
  ldd "$build/cli/fersweep" | grep "not found" || echo "ldd: every library found"
} >> "$out/node.txt" 2>&1
bash bench/gpu/run.sh "$build" 2>&1 | tee "$out/run.log"
