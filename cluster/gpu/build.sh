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
# Absolute: the unpacked libraries' paths end up in pkg-config files and CMake's imported
# targets, which refuse relative include directories.
mkdir -p "$build"
build="$(cd "$build" && pwd)"
[ ! -d "$debs" ] || debs="$(cd "$debs" && pwd)"
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
# torch loads the NCCL of its nvidia-nccl package, and a process holds one libnccl.so.2: build
# against that one where it exists, else the toolkit's.
nccl_h=$({ find "$site/nvidia" -path '*nccl*' -name nccl.h 2> /dev/null
           ls "$cuda_root"/include/nccl.h /usr/include/nccl.h 2> /dev/null; } | head -n 1 || true)
[ -n "$nccl_h" ] || die "no nccl.h: neither in the nvidia-nccl package nor in the CUDA toolkit"
nccl_lib=$({ find "$(dirname "$(dirname "$nccl_h")")/" -maxdepth 4 -name 'libnccl.so*' 2> /dev/null
             ls /usr/lib/x86_64-linux-gnu/libnccl.so* 2> /dev/null; } | sort | head -n 1 || true)
[ -n "$nccl_lib" ] || die "found $nccl_h but no libnccl.so next to it"
say "NCCL: $nccl_h, $nccl_lib"
cmake_args+=("-DNCCL_INCLUDE_DIR=$(dirname "$nccl_h")" "-DNCCL_LIBRARY=$nccl_lib")

# 3. Debian libraries the node lacks, from .debs unpacked into the build tree.
deps="$build/deps"
prefixes="$torch_prefix"
need=()
command -v mpicxx > /dev/null || need+=(mpicxx)
command -v pkg-config > /dev/null || need+=(pkg-config)
for header in sqlite3.h fmt/format.h nlohmann/json.hpp opencv4/opencv2/objdetect.hpp \
              opencv4/opencv2/dnn.hpp onnx/onnx_pb.h google/protobuf/message.h httplib.h; do
  [ -e "/usr/include/$header" ] || need+=("$header")
done
if ((${#need[@]})); then
  say "not on this node: ${need[*]}; unpacking .debs from $debs"
  compgen -G "$debs/*.deb" > /dev/null ||
    die "no .debs in $debs: run cluster/gpu/fetch-debs.sh on a machine with network access"
  rm -rf "$deps"
  mkdir -p "$deps"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$deps"; done
  # Debian names its Open MPI programs *.openmpi and links the plain names at install time.
  for program in "$deps"/usr/bin/*.openmpi; do
    ln -sf "$(basename "$program")" "${program%.openmpi}"
  done
  # A -dev package's libNAME.so links to a runtime library that was left out of the .debs because
  # every node has it (SQLite, zlib and OpenSSL, which Python needs): link it to the node's copy.
  lib="$deps/usr/lib/x86_64-linux-gnu"
  for link in "$lib"/*.so; do
    if [ ! -L "$link" ] || [ -e "$link" ]; then continue; fi
    name=$(basename "$(readlink "$link")")  # libsqlite3.so.0.8.6, then .so.0.8, then .so.0
    found=""
    while [ -z "$found" ] && [[ "$name" == *.so.* ]]; do
      found=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ && !f { print $NF; f = 1 }')
      name="${name%.*}"
    done
    if [ -n "$found" ]; then
      ln -sf "$found" "$link"
    else
      say "warning: $link links to nothing on this node"
    fi
  done
  # pkg-config files name /usr; point them at where they were unpacked.
  find "$deps" -name '*.pc' -exec sed -i -E "s#^([A-Za-z_]+)=/usr#\1=$deps/usr#" {} +
  export PATH="$deps/usr/bin:$PATH"
  libraries="$lib:$lib/openmpi/lib:$deps/lib/x86_64-linux-gnu"
  export LD_LIBRARY_PATH="$libraries${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$lib/pkgconfig:$deps/usr/share/pkgconfig"
  export OPAL_PREFIX="$deps/usr"  # Open MPI finds its wrappers' data, help files and plugins there
  prefixes="$prefixes;$deps/usr"
  cmake_args+=("-DMPI_CXX_COMPILER=$deps/usr/bin/mpicxx.openmpi"
               "-DFERSWEEP_HAAR_DIR=$deps/usr/share/opencv4/haarcascades")
fi
# OpenCV's imgcodecs is not among the .debs (fetch-debs.sh says why): image files only where the
# node has it.
image_files=OFF
[ -e /usr/include/opencv4/opencv2/imgcodecs.hpp ] && ((${#need[@]} == 0)) && image_files=ON
cmake_args+=("-DFERSWEEP_IMAGE_FILES=$image_files")
# Whoever runs the benchmarks next (bench/gpu/run.sh) needs the same environment.
mkdir -p "$build"
{
  echo "export PATH=\"$PATH\""
  echo "export LD_LIBRARY_PATH=\"${LD_LIBRARY_PATH:-}\""
  [ -z "${OPAL_PREFIX:-}" ] || echo "export OPAL_PREFIX=\"$OPAL_PREFIX\""
} > "$build/env.sh"

# 4. Configure and build: no tests (GoogleTest and CTest stay on the CPU machines).
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFERSWEEP_BUILD_TESTS=OFF \
  "-DCMAKE_PREFIX_PATH=$prefixes" "${cmake_args[@]}" 2>&1 | tee "$build/configure.log"
grep -q "NCCL communicator enabled" "$build/configure.log" ||
  die "CMake did not enable the NCCL communicator (see its output above)"
cmake --build "$build" -j"$(nproc)"
say "built $build/cli/fersweep ($("$build/cli/fersweep" --version))"
if ((run)); then
  bash "$root/bench/gpu/run.sh" "$build"
fi
