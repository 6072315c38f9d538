#!/usr/bin/env bash
# Installs fersweep's build, run and test dependencies from Debian packages (Debian 12).
# Idempotent and offline when everything is already installed.
#   cluster/install-deps.sh [--bench]   (--bench: also the Python references bench/ measures
#                                        fersweep against; never a runtime dependency)
set -euo pipefail

packages=(
  build-essential cmake        # C++20 compiler and build
  libtorch-dev                 # LibTorch 1.13, CPU-only build
  libopenblas0-openmp          # its dense layers' BLAS: OpenBLAS on LibTorch's own OpenMP threads
                               # instead of the reference BLAS (docs/BENCHMARKS.md, "The BLAS")
  libopenmpi-dev openmpi-bin   # MPI and mpirun
  libsqlite3-dev sqlite3       # results store (the sqlite3 shell is for users' own queries)
  libfmt-dev nlohmann-json3-dev
  libcpp-httplib-dev           # `fersweep serve`: the live dashboard's HTTP server
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev  # image decoding, resizing
  libopencv-objdetect-dev opencv-data                                # face detection (Haar)
  libopencv-dnn-dev            # `predict` with an exported .onnx model
  libonnx-dev libprotobuf-dev  # `export-model --format onnx`: the ONNX protobuf definitions
  python3-onnx                 # tests: onnx.checker in Python, beside the C++ one
  python3-torch python3-torchvision  # tests: training steps against PyTorch on the same LibTorch
  libgtest-dev                 # tests
  libexpat1-dev                # tests: every SVG figure parsed as XML
  chromium                     # tests: the HTML report rendered in a headless browser
  slurm-wlm munge              # tests: the sbatch template under a one-node Slurm
)
if [ "${1:-}" = "--bench" ]; then
  # Optuna 3.1 (PyTorch 1.13 is a test dependency); scikit-learn's macro-F1 for the references
  packages+=(python3-optuna python3-scipy python3-sklearn)
elif [ -n "${1:-}" ]; then
  echo "install-deps: unknown argument '$1' (only --bench)" >&2
  exit 2
fi

# tests: exported ONNX models run in onnxruntime under Node.js (below); Debian's where none is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all Debian packages present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The npm package the tests run exported models in, at the version of its lock file. Its install
# script would fetch CUDA builds from GitHub; the CPU build ships inside the package itself.
ort_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/onnxruntime"
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "install-deps: installing onnxruntime-node (npm) under tests/onnxruntime"
  (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: done"
