#!/usr/bin/env bash
# On a machine WITH network access and the same Debian release as the GPU node: downloads the
# .debs fersweep builds against (Open MPI, SQLite, fmt, nlohmann/json, OpenCV's four modules)
# with their dependency closure, into DIR (default cluster/gpu/debs). Copy DIR to the node;
# cluster/gpu/build.sh unpacks only what the node lacks. LibTorch is not among them: the GPU
# build uses the CUDA LibTorch inside the node's Python torch package.
#   bash cluster/gpu/fetch-debs.sh [DIR]
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/debs}"
mkdir -p "$dir"
roots=(libopenmpi-dev openmpi-bin libsqlite3-dev libfmt-dev nlohmann-json3-dev
       libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-objdetect-dev
       opencv-data)
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "${roots[@]}" |
          sed -n 's/^\([a-z0-9][a-z0-9.+-]*\)$/\1/p' | sort -u)
cd "$dir"
# shellcheck disable=SC2086  # one word per package
apt-get download $closure 2>&1 | grep -v '^Get:' || true
echo "fetch-debs: $(ls -1 "$dir"/*.deb | wc -l) packages in $dir"
