#!/usr/bin/env bash
# Installs fersweep's build, run and test dependencies from Debian packages (Debian 12).
# Idempotent and offline when everything is already installed.
#   cluster/install-deps.sh [--bench]   (--bench: also the Python references bench/ measures
#                                        fersweep against; never a runtime dependency)
set -euo pipefail

packages=(
  build-essential cmake        # C++20 compiler and build
  libtorch-dev                 # LibTorch 1.13, CPU-only build
  libopenmpi-dev openmpi-bin   # MPI and mpirun
  libsqlite3-dev sqlite3       # results store (the sqlite3 shell is for users' own queries)
  libfmt-dev nlohmann-json3-dev
  libcpp-httplib-dev           # `fersweep serve`: the live dashboard's HTTP server
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev  # image decoding, resizing
  libopencv-objdetect-dev opencv-data                                # face detection (Haar)
  libgtest-dev                 # tests
  libexpat1-dev                # tests: every SVG figure parsed as XML
  chromium                     # tests: the HTML report rendered in a headless browser
  slurm-wlm munge              # tests: the sbatch template under a one-node Slurm
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-torch python3-torchvision python3-optuna python3-scipy)  # PyTorch 1.13, Optuna 3.1
elif [ -n "${1:-}" ]; then
  echo "install-deps: unknown argument '$1' (only --bench)" >&2
  exit 2
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all dependencies present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
