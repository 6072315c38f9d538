#!/usr/bin/env bash
# Host rotation before and after 2026-12-01, side by side in one process: the source position
# stepped along each row (commit 9a0ac80) against the per-column plus per-row sum that makes
# GPU batches bit-identical (data/batch_assembly.cc now). 20,000 48x48 rotations each, three
# rounds; prints images/s. Needs the git history (a clone, not an export). About 20 s.
#   bash bench/rotation_sum_order.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Each version's transforms (everything above epoch_order), in a namespace of its own.
extract() {  # source file, namespace
  sed -e "0,/^namespace fersweep::data {/s//namespace fersweep::data { namespace $2 {/" \
      -e '/^std::vector<int64_t> epoch_order(/,$d' "$1"
  echo '} }'
}
git -C "$root" show 9a0ac80:data/batch_assembly.cc > "$work/stepped_source.cc"
extract "$work/stepped_source.cc" stepped > "$work/stepped.cc"
extract "$root/data/batch_assembly.cc" summed > "$work/summed.cc"
sed -i 's|#include "data/batch_assembly.h"|&\n#include <vector>|' "$work/stepped.cc" "$work/summed.cc"
g++ -std=c++20 -O2 -ffp-contract=off -w -I"$root" "$work/stepped.cc" "$work/summed.cc" \
  "$root/bench/rotation_sum_order.cc" -o "$work/rotation_ab"
"$work/rotation_ab"
