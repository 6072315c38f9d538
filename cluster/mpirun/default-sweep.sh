#!/usr/bin/env bash
# The plain mpirun launch: world rank 0 coordinates, ranks 1..N-1 train one trial at a time.
#
#   cluster/mpirun/default-sweep.sh [RANKS]          (default 3: a coordinator and two workers)
#
# Environment: FERSWEEP (binary, default build/cli/fersweep), SPEC (default
# search_spaces/default.json), DB (default sweep.db), plus any mpirun options in MPIRUN_ARGS,
# e.g. MPIRUN_ARGS="--hostfile hosts" for several nodes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ranks="${1:-3}"
fersweep="${FERSWEEP:-$root/build/cli/fersweep}"
spec="${SPEC:-$root/search_spaces/default.json}"
db="${DB:-sweep.db}"

if [ "$(id -u)" -eq 0 ]; then
  # Open MPI refuses to run as root unless told twice (containers, CI).
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# --oversubscribe: the coordinator sleeps while it waits, so N ranks may exceed the cores.
# shellcheck disable=SC2086
exec mpirun -n "$ranks" --oversubscribe ${MPIRUN_ARGS:-} "$fersweep" run "$spec" --db "$db"
