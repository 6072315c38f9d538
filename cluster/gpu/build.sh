#!/usr/bin/env bash
# Builds fersweep on a GPU node against the CUDA LibTorch of its Python torch package, offline,
# then (with --run) runs the GPU benchmarks. Checks what the node has before using anything else:
#   - LibTorch: python3 -c 'import torch' (needs torch.version.cuda and the CXX11 ABI);
#   - CUDA runtime and NCCL: a CUDA toolkit (nvcc, /usr/local/cuda), else the nvidia-* Python
#     packages torch depends on (nvidia/cuda_runtime, nvidia/nccl);
#   - MPI, SQLite, fmt, nlohmann/json, OpenCV: the system, else .debs from
#     cluster/gpu/fetch-debs.sh unpacked into BUILD/deps (no root, no network).
#   bash cluster/gpu/build.sh [--build DIR] [--debs DIR] [--run]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build-gpu"
debs="$root/cluster/gpu/debs"
run=0
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --debs) debs="$2"; shift 2 ;;
    --run) run=1; shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { echo "build.sh: $*"; }
die() { echo "build.sh: $*" >&2; exit 1; }

# 1. LibTorch with CUDA, from Python.
python=${PYTHON:-python3}
read -r torch_prefix torch_cuda torch_abi torch_version < <("$python" -c '
import torch
print(torch.utils.cmake_prefix_path, torch.version.cuda or "none",
      int(torch._C._GLIBCXX_USE_CXX11_ABI), torch.__version__)') ||
  die "no Python torch package: install torch (with CUDA) for $python"
[ "$torch_cuda" != none ] || die "torch $torch_version has no CUDA"
# Debian's MPI, fmt and OpenCV are built with the new std::string ABI; a torch built without it
# (pip wheels before 2.7) cannot be linked against them.
[ "$torch_abi" = 1 ] || die "torch $torch_version uses the pre-C++11 string ABI; use torch >= 2.7"
say "torch $torch_version, CUDA $torch_cuda: $torch_prefix"
site=$("$python" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))')

# 2. CUDA runtime and NCCL.
cmake_args=()
if command -v nvcc > /dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_root=$(dirname "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")
  say "CUDA toolkit: $cuda_root"
  cmake_args+=("-DCUDAToolkit_ROOT=$cuda_root")
else
  die "no CUDA toolkit (nvcc): torch's CMake package needs one to configure a CUDA build"
fi
nccl_h=$(ls "$cuda_root"/include/nccl.h /usr/include/nccl.h "$site"/nvidia/nccl/include/nccl.h \
           2> /dev/null | head -n 1 || true)
[ -n "$nccl_h" ] || die "no nccl.h: neither in the CUDA toolkit nor in the nvidia-nccl package"
nccl_lib=$(ls "$(dirname "$(dirname "$nccl_h")")"/lib*/libnccl.so* "$site"/nvidia/nccl/lib/libnccl.so* \
             /usr/lib/x86_64-linux-gnu/libnccl.so* 2> /dev/null | head -n 1 || true)
[ -n "$nccl_lib" ] || die "found $nccl_h but no libnccl.so next to it"
say "NCCL: $nccl_h, $nccl_lib"
cmake_args+=("-DNCCL_INCLUDE_DIR=$(dirname "$nccl_h")" "-DNCCL_LIBRARY=$nccl_lib")

# 3. Debian libraries the node lacks, from .debs unpacked into the build tree.
deps="$build/deps"
prefixes="$torch_prefix"
need=()
command -v mpicxx > /dev/null || need+=(libopenmpi-dev openmpi-bin)
for header in sqlite3.h fmt/format.h nlohmann/json.hpp opencv4/opencv2/core.hpp; do
  [ -e "/usr/include/$header" ] || need+=("$header")
done
if ((${#need[@]})); then
  say "not on this node: ${need[*]}; unpacking .debs from $debs"
  compgen -G "$debs/*.deb" > /dev/null ||
    die "no .debs in $debs: run cluster/gpu/fetch-debs.sh on a machine with network access"
  mkdir -p "$deps"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$deps"; done
  export PATH="$deps/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:$deps/usr/lib/x86_64-linux-gnu/openmpi/lib:${LD_LIBRARY_PATH:-}"
  export OPAL_PREFIX="$deps/usr"  # Open MPI finds its help files and plugins there
  prefixes="$prefixes;$deps/usr"
  cmake_args+=("-DMPI_HOME=$deps/usr/lib/x86_64-linux-gnu/openmpi")
fi

# 4. Configure and build: no tests (GoogleTest and CTest stay on the CPU machines).
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFERSWEEP_BUILD_TESTS=OFF \
  "-DCMAKE_PREFIX_PATH=$prefixes" "${cmake_args[@]}"
cmake -S "$root" -B "$build" 2>&1 | grep -q "NCCL communicator enabled" ||
  die "CMake did not enable the NCCL communicator (see its output above)"
cmake --build "$build" -j"$(nproc)"
say "built $build/cli/fersweep ($("$build/cli/fersweep" --version))"
if ((run)); then
  bash "$root/bench/gpu/run.sh" "$build"
fi
