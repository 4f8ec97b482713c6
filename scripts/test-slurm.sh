#!/usr/bin/env bash
# Integration test of `adai-bench sweep --backend slurm` on a real one-node Slurm cluster on localhost:
# installs Debian's slurm-wlm and munge when missing, starts munged, slurmctld and slurmd with a
# configuration written under a temporary directory, submits a 4-run sweep on synthetic data, waits for
# the job array, checks the four runs are complete and that `collect` summarises them, then stops the
# daemons. Needs root (it starts the daemons) and the adai-bench binary (ADAI_BENCH, default: the release
# build, else the debug one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BIN=${ADAI_BENCH:-}
if [ -z "$BIN" ]; then
    for candidate in .build/release/adai-bench .build/debug/adai-bench; do
        if [ -x "$candidate" ]; then BIN="$ROOT/$candidate"; break; fi
    done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "test-slurm: build adai-bench first (swift build)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-slurm: run as root (it installs packages and starts slurmctld, slurmd and munged)" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "test-slurm: installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

WORK=$(mktemp -d /tmp/adai-slurm-XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local status=$?
    if command -v scancel >/dev/null && [ -f "$WORK/slurm.conf" ]; then SLURM_CONF="$WORK/slurm.conf" scancel --user=root 2>/dev/null || true; fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ $status -ne 0 ]; then
        echo "test-slurm: FAILED; daemon logs:" >&2
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT

# munge: a key of our own and a socket under $WORK, so that a system munged is left alone.
mkdir -p "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 711 "$WORK/munge"; chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCKET="$WORK/munge/munge.socket"
munged --force --foreground --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munged.log" --seed-file="$WORK/munge/seed" >>"$WORK/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || { echo "test-slurm: munged did not start" >&2; exit 1; }

CPUS=$(nproc)
MEM=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
mkdir -p "$WORK/spool/ctld" "$WORK/spool/d"
cat > "$WORK/slurm.conf" <<EOF
ClusterName=adai-test
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/spool/ctld
SlurmdSpoolDir=$WORK/spool/d
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
MaxArraySize=1001
NodeName=localhost CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >>"$WORK/slurmctld.log" 2>&1 &
PIDS+=($!)
sleep 1
slurmd -D -f "$SLURM_CONF" -N localhost >>"$WORK/slurmd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
    case "$state" in idle*|mix*|alloc*) break ;; esac
    sleep 0.2
done
sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)' || { echo "test-slurm: the node did not come up (state: $(sinfo -h -N -o %t 2>&1))" >&2; exit 1; }
echo "test-slurm: one-node cluster up ($CPUS CPUs)"

# A 4-run sweep (sgdm: 2 learning rates × 2 seeds) on synthetic data.
cat > "$WORK/sweep.json" <<'EOF'
{"name": "slurm-test",
 "dataset": {"name": "cifar10", "synthetic": {"train": 256, "test": 64, "seed": 3}},
 "model": {"name": "resnet-tiny"},
 "training": {"epochs": 2, "batchSize": 64, "evalBatchSize": 64, "seeds": [1]},
 "optimizers": [{"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}],
 "sweep": {"lr": [0.05, 0.1], "seeds": [1, 2], "slurm": {"cpusPerTask": 1, "time": "00:10:00"}}}
EOF
RESULTS="$WORK/results"
"$BIN" sweep --config "$WORK/sweep.json" --results "$RESULTS" --backend slurm --dry-run | grep -q -- '--array=0-3%' \
    || { echo "test-slurm: --dry-run did not print a 4-task array" >&2; exit 1; }
OUT=$(cd "$WORK" && "$BIN" sweep --config "$WORK/sweep.json" --results "$RESULTS" --backend slurm --max-parallel 2 --max-steps 2)
echo "$OUT"
JOB=$(echo "$OUT" | tail -n1)
[[ "$JOB" =~ ^[0-9]+$ ]] || { echo "test-slurm: no job id in the output" >&2; exit 1; }

for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] || { echo "test-slurm: job $JOB still queued after 5 minutes" >&2; squeue >&2; exit 1; }

fail=0
for setting in sgdm-lr0.05-wd0.0005 sgdm-lr0.1-wd0.0005; do
    for seed in 1 2; do
        dir="$RESULTS/slurm-test/$setting/seed-$seed"
        if ! grep -q '"status" : "completed"' "$dir/run.json" 2>/dev/null; then
            echo "test-slurm: $dir is not completed" >&2; fail=1; continue
        fi
        [ "$(tail -n +2 "$dir/metrics.csv" | wc -l)" = 2 ] || { echo "test-slurm: $dir/metrics.csv does not have 2 epochs" >&2; fail=1; }
    done
done
if [ $fail -ne 0 ]; then
    echo "test-slurm: task logs:" >&2; tail -n 5 "$RESULTS"/slurm-test/slurm/*.out >&2 || true
    exit 1
fi
[ "$(ls "$RESULTS"/slurm-test/slurm/*.out | wc -l)" = 4 ] || { echo "test-slurm: expected 4 task logs" >&2; exit 1; }

"$BIN" collect "$RESULTS/slurm-test"
SUMMARY="$RESULTS/slurm-test/summary.csv"
[ "$(tail -n +2 "$SUMMARY" | wc -l)" = 2 ] || { echo "test-slurm: summary.csv should have 2 settings" >&2; cat "$SUMMARY" >&2; exit 1; }
awk -F, 'NR > 1 && ($6 != 2 || $12 != 2) { bad = 1 } END { exit bad }' "$SUMMARY" \
    || { echo "test-slurm: summary.csv does not show 2 completed seeds per setting" >&2; cat "$SUMMARY" >&2; exit 1; }
# Submitting again finds nothing to do.
"$BIN" sweep --config "$WORK/sweep.json" --results "$RESULTS" --backend slurm | grep -q "nothing to submit" \
    || { echo "test-slurm: a second submission should find every run done" >&2; exit 1; }
cat "$SUMMARY"
echo "test-slurm: OK (job $JOB: 4 runs completed, summary.csv written)"
