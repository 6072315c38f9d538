#!/usr/bin/env bash
# A throwaway one-node Slurm on this machine, for tests and trying the sbatch template:
#   cluster/slurm/local-slurm.sh start DIR   writes DIR/slurm.conf, starts munged, slurmctld and
#                                            slurmd (as root), waits until the node is idle
#   cluster/slurm/local-slurm.sh stop DIR    stops exactly the daemons it started (by PID)
# Afterwards `export SLURM_CONF=DIR/slurm.conf` points sbatch, squeue and scontrol at it.
# Needs Debian's slurm-wlm and munge (cluster/install-deps.sh --slurm installs them).
set -euo pipefail
action="${1:?usage: local-slurm.sh start|stop DIR}"
dir="$(mkdir -p "${2:?usage: local-slurm.sh start|stop DIR}" && cd "$2" && pwd)"

stop() {
  for daemon in slurmd slurmctld munged; do
    if [ -s "$dir/$daemon.pid" ]; then
      pid="$(cat "$dir/$daemon.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$daemon.pid"
    fi
  done
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi
[ "$action" = start ] || { echo "local-slurm.sh: unknown action $action" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "local-slurm.sh: needs root (slurmd runs jobs as their user)" >&2; exit 2; }
for tool in munged slurmctld slurmd sbatch scontrol; do
  command -v "$tool" > /dev/null || { echo "local-slurm.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 3; }
done

node="$(hostname -s)"
cpus="$(nproc)"
memory_mb="$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))"
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
head -c 1024 /dev/urandom > "$dir/munge.key"
chmod 400 "$dir/munge.key"
cat > "$dir/slurm.conf" <<CONF
ClusterName=fersweep-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${FERSWEEP_SLURMCTLD_PORT:-6817}
SlurmdPort=${FERSWEEP_SLURMD_PORT:-6818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
ReturnToService=2
KillWait=5
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed"
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf" -N "$node"
for _ in $(seq 100); do
  state="$(sinfo -h -n "$node" -o %t 2>/dev/null || true)"
  case "$state" in idle*|mix*|alloc*) echo "local slurm up: node $node, $cpus cpus, SLURM_CONF=$dir/slurm.conf"; exit 0 ;; esac
  sleep 0.2
done
echo "local-slurm.sh: node $node did not become idle (state '${state:-none}'); logs in $dir/log" >&2
stop
exit 1
