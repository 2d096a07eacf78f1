#!/usr/bin/env bash
# A one-node SLURM cluster on 127.0.0.1 with one fake GPU, for testing the SLURM profile.
#   bash tests/slurm/local_cluster.sh start DIR   # installs slurm-wlm + munge with apt when missing (root)
#   bash tests/slurm/local_cluster.sh stop DIR
# The config goes to /etc/slurm (where srun inside a job looks: Snakemake's job step drops SLURM_CONF), but
# never over a real cluster's config: exit code 3 (skip) then, and also when root or apt is missing.
set -euo pipefail
action=${1:?start|stop}
dir=$(realpath -m "${2:?state directory}")
host=$(hostname -s)

MARK="# synthfer local test cluster"
ETC=/etc/slurm

stop() {
    for daemon in slurmd slurmctld; do
        [[ -f "$dir/$daemon.pid" ]] && kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
    done
    sleep 1
}

if [[ $action == stop ]]; then
    stop
    for f in slurm.conf gres.conf; do
        head -1 "$ETC/$f" 2>/dev/null | grep -qx "$MARK" && rm -f "$ETC/$f"
    done
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "SKIP: slurm-wlm/munge missing and cannot be installed here (needs root and apt-get)" >&2
        exit 3
    fi
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge; }) >&2 \
        || { echo "SKIP: apt-get could not install slurm-wlm munge" >&2; exit 3; }
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: starting munged and slurmd needs root" >&2
    exit 3
fi

for f in slurm.conf gres.conf; do
    if [[ -e "$ETC/$f" ]] && ! head -1 "$ETC/$f" | grep -qx "$MARK"; then
        echo "SKIP: $ETC/$f belongs to a real SLURM installation; not replacing it with a test cluster" >&2
        exit 3
    fi
done
mkdir -p "$dir"/{spool,state,log} "$ETC"
# munge: one key for the whole machine; the daemon runs as user munge
if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    [[ -s /etc/munge/munge.key ]] || { mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    runuser -u munge -- munged
fi

: > "$dir/fake-gpu0"; : > "$dir/fake-gpu1"    # gres needs an existing file per device; two, so GPU jobs can overlap
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
cpus=$(nproc)
cat > "$dir/slurm.conf" <<CONF
$MARK
ClusterName=synthfer-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
KillWait=10
ReturnToService=2
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
printf '%s\nNodeName=%s Name=gpu File=%s\nNodeName=%s Name=gpu File=%s\n' "$MARK" "$host" "$dir/fake-gpu0" "$host" "$dir/fake-gpu1" > "$dir/gres.conf"
cp "$dir/slurm.conf" "$dir/gres.conf" "$ETC/"

export SLURM_CONF=$ETC/slurm.conf
stop
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
    case $state in
        idle*) echo "SLURM up: SLURM_CONF=$SLURM_CONF"; exit 0 ;;
        drain*|down*|inval*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
done
echo "SLURM did not come up; see $dir/log" >&2
exit 1
