#!/usr/bin/env bash
# On a machine WITH network access and apt: downloads the .debs fersweep builds against (Open MPI,
# SQLite, fmt, nlohmann/json, OpenCV's core/imgproc/objdetect/dnn, ONNX and protobuf,
# cpp-httplib, pkgconf) with the libraries they need, into DIR (default cluster/gpu/debs). Copy DIR
# to the node; cluster/gpu/build.sh unpacks them there when the node lacks any of them. LibTorch
# is not among them: the GPU build uses the CUDA LibTorch inside the node's Python torch package.
#   bash cluster/gpu/fetch-debs.sh [DIR]
#
# Left out:
#   - whatever a node with a C++ compiler and Python has (the closure of build-essential and
#     python3): the node's own C and C++ runtimes, usually newer, must never be shadowed;
#   - OpenCV's imgcodecs, whose closure (GDAL, GDCM, OpenEXR, ...) is about 200 MB: the GPU
#     build is configured with FERSWEEP_IMAGE_FILES=OFF;
#   - the -dev packages' own dependencies, and the libraries named below as unused.
# On Debian 12: 70 packages, 33 MB.
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/debs}"
mkdir -p "$dir"
# Libraries and programs, with everything they need to run.
runtime=(libopenmpi3 openmpi-bin openmpi-common libsqlite3-0 libfmt9 libopencv-core406
         libopencv-imgproc406 libopencv-objdetect406 libopencv-dnn406 opencv-data libonnx1 libonnxifi
         libprotobuf32 libprotobuf-lite32 libcpp-httplib0.11 pkgconf)
# Headers, CMake and pkg-config files, taken alone: their own dependencies are other -dev packages
# (OpenCV's objdetect-dev pulls highgui-dev and with it imgcodecs, video and GUI toolkits) that a
# shared-library build never reads.
headers=(libopenmpi-dev libsqlite3-dev libfmt-dev nlohmann-json3-dev libopencv-core-dev
         libopencv-imgproc-dev libopencv-objdetect-dev libopencv-dnn-dev libonnx-dev libprotobuf-dev
         libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev)
base=(build-essential python3)
# Named by a dependency but never loaded here: the Mesa GL driver stack and LLVM (OpenCV's core
# links libGLX, which needs no driver unless GL is called), ssh and PAM (Open MPI launching on
# other nodes), hwloc's plugins (and the XML and ICU they need) and OpenCL's loader.
unused='^(libllvm|libgl1-mesa-dri|libglx-mesa0|libglapi-mesa|libdrm|libxcb-|libz3-|libsensors|'\
'openssh-client|passwd|adduser|debconf|libpam|libaudit|libsemanage|libsepol|libcap-ng|'\
'libhwloc-plugins|libxml2|libicu|ocl-icd|libxnvctrl|libxshmfence|libxxf86vm|libpciaccess|libelf|libedit)'

# What apt would install on a machine that has nothing, one package name per line.
empty_status=$(mktemp)
trap 'rm -f "$empty_status"' EXIT
closure() {
  apt-get -s -o Dir::State::status="$empty_status" -o Debug::NoLocking=1 \
    --no-install-recommends install "$@" |
    sed -n 's/^Inst \([^ ]*\) .*/\1/p' | sort -u
}
wanted="$(comm -23 <(closure "${runtime[@]}") <(closure "${base[@]}") | grep -Ev "$unused")
        ${headers[*]}"
cd "$dir"
# shellcheck disable=SC2086  # one word per package
apt-get download $wanted 2>&1 | grep -v '^Get:' || true
echo "fetch-debs: $(ls -1 "$dir"/*.deb | wc -l) packages, $(du -sh "$dir" | cut -f1), in $dir"
