#!/usr/bin/env bash
# Integration test of `adai-bench sweep --backend slurm` on a real one-node Slurm cluster on localhost:
# installs Debian's slurm-wlm and munge when missing, starts munged, slurmctld and slurmd with a
# configuration written under a temporary directory, submits a 4-run sweep on synthetic data, waits for
# the job array, checks the four runs are complete and that `collect` summarises them. Then the failures a
# cluster produces, each on a one-run sweep: a task cancelled mid-run (scancel) and the same sweep submitted
# again; a task past its --time limit (Slurm's SIGTERM, then SIGKILL after KillWait); a task requeued with
# `scontrol requeue`. Each must end with its run completed once, resumed from its checkpoint, and
# attempts.json showing the attempts. Stops the daemons. Needs root (it starts the daemons) and the
# adai-bench binary (ADAI_BENCH, default: the release build, else the debug one). Takes about 4 minutes.
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
# Ports of our own (not the default 6817/6818), chosen free, so that a system Slurm or a second run of this
# script on the same machine is left alone.
port_free() { ! (ss -ltn 2>/dev/null || netstat -ltn 2>/dev/null) | grep -q ":$1 "; }
CTLD_PORT=16817
while ! port_free "$CTLD_PORT" || ! port_free $((CTLD_PORT + 1)); do CTLD_PORT=$((16817 + 2 * (RANDOM % 2000))); done
MEM=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
mkdir -p "$WORK/spool/ctld" "$WORK/spool/d"
cat > "$WORK/slurm.conf" <<EOF
ClusterName=adai-test
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$((CTLD_PORT + 1))
KillWait=2
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
echo "test-slurm: job $JOB: 4 runs completed, summary.csv written"

# --- The failures a cluster produces, each on a one-run sweep -------------------------------------------

# The values of a key in a JSON file written by adai-bench (pretty-printed: `"key" : value`), one a line.
values() { grep -o "\"$2\" : [^,]*" "$1" 2>/dev/null | sed 's/^[^:]*: //; s/"//g' || true; }
wait_job() {  # wait_job JOB SECONDS: until the job (every task) has left the queue
    for _ in $(seq $(($2 * 2))); do [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0; sleep 0.5; done
    echo "test-slurm: job $1 still queued after $2 s" >&2; squeue >&2; return 1
}
wait_checkpoint() {  # wait_checkpoint RUN_DIRECTORY SECONDS: until the run has checkpointed an epoch
    for _ in $(seq $(($2 * 10))); do [ -f "$1/checkpoint/trainer.json" ] && return 0; sleep 0.1; done
    echo "test-slurm: $1 wrote no checkpoint in $2 s" >&2; tail -n 5 "$(dirname "$(dirname "$1")")"/slurm/*.out >&2 || true; return 1
}
one_run_config() {  # one_run_config NAME EPOCHS [SLURM_OPTIONS_JSON [BATCH_SIZE]]
    cat > "$WORK/$1.json" <<EOT
{"name": "$1",
 "dataset": {"name": "cifar10", "synthetic": {"train": $((${4:-64} * 4)), "test": 64, "seed": 3}},
 "model": {"name": "resnet-tiny"},
 "training": {"epochs": $2, "batchSize": ${4:-64}, "evalBatchSize": 64, "seeds": [1]},
 "optimizers": [{"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}],
 "sweep": {"seeds": [1], "slurm": {"cpusPerTask": 1, "options": ${3:-[]}}}}
EOT
}
submit() {  # submit NAME ARGS...: submits the sweep of $WORK/NAME.json, prints the job id
    local name=$1; shift
    (cd "$WORK" && "$BIN" sweep --config "$WORK/$name.json" --results "$RESULTS" --backend slurm "$@") | tail -n1
}
# check_resumed NAME EPOCHS: the run completed once, with EPOCHS rows, and an attempt after the first resumed a checkpoint.
check_resumed() {
    local dir="$RESULTS/$1/sgdm-lr0.05-wd0.0005/seed-1"
    local status attempts completed resumed
    status=$(values "$dir/run.json" status)
    attempts=$(values "$dir/attempts.json" pid | wc -l)
    completed=$(values "$dir/attempts.json" status | grep -c '^completed$' || true)
    resumed=$(values "$dir/attempts.json" fromEpoch | tail -n +2 | awk '$1 > 0' | wc -l)
    echo "test-slurm: $1: run.json status $status, $(($(wc -l < "$dir/metrics.csv") - 1)) epochs; attempts.json: $attempts attempts," \
        "statuses [$(values "$dir/attempts.json" status | paste -sd, -)], from epochs [$(values "$dir/attempts.json" fromEpoch | paste -sd, -)]"
    [ "$status" = completed ] || { echo "test-slurm: $1 is not completed" >&2; tail -n 20 "$RESULTS/$1"/slurm/*.out >&2; return 1; }
    [ "$(tail -n +2 "$dir/metrics.csv" | wc -l)" = "$2" ] || { echo "test-slurm: $1/metrics.csv does not have $2 epochs" >&2; return 1; }
    [ "$completed" = 1 ] || { echo "test-slurm: $1 should have exactly one completed attempt" >&2; cat "$dir/attempts.json" >&2; return 1; }
    [ "$attempts" -ge 2 ] && [ "$resumed" -ge 1 ] || { echo "test-slurm: $1 was not resumed from a checkpoint" >&2; cat "$dir/attempts.json" >&2; return 1; }
}

# 1. Past the time limit: a run far longer than `--time 1` (one minute). The script's own warning
# (`--signal=B:TERM@120`, a checkpoint before the limit) would come at once with so short a limit, so this
# task replaces it with a harmless SIGCONT: the limit itself stops it (SIGTERM, then SIGKILL after KillWait,
# 2 s here). Its steps (batch 1024) take longer than KillWait, so SIGTERM mostly lands in a step that
# cannot end in time and SIGKILL follows (run.json stays `running`); when it lands elsewhere the task
# checkpoints and stops (`interrupted`). Either way the next submission resumes from the last checkpoint.
# Started first: it holds one core for 60-90 s while the other cases run.
one_run_config slurm-timeout 100000 '["--signal=B:CONT@1"]' 1024
TIMEOUT_JOB=$(submit slurm-timeout --time 1 --max-steps 1)
[[ "$TIMEOUT_JOB" =~ ^[0-9]+$ ]] || { echo "test-slurm: no job id for the time-limit case" >&2; exit 1; }
TIMEOUT_DIR="$RESULTS/slurm-timeout/sgdm-lr0.05-wd0.0005/seed-1"

# 2. scancel mid-run, then the same `sweep --backend slurm` again.
one_run_config slurm-cancel 6
JOB=$(submit slurm-cancel --max-steps 3)
wait_checkpoint "$RESULTS/slurm-cancel/sgdm-lr0.05-wd0.0005/seed-1" 120
scancel "$JOB"
wait_job "$JOB" 60
echo "test-slurm: slurm-cancel: job $JOB cancelled after epoch $(values "$RESULTS/slurm-cancel/sgdm-lr0.05-wd0.0005/seed-1/checkpoint/trainer.json" nextEpoch): run.json status $(values "$RESULTS/slurm-cancel/sgdm-lr0.05-wd0.0005/seed-1/run.json" status)"
JOB=$(submit slurm-cancel --max-steps 3)
wait_job "$JOB" 180
check_resumed slurm-cancel 6

# 3. scontrol requeue of the running task: Slurm stops it and runs it again.
one_run_config slurm-requeue 6
JOB=$(submit slurm-requeue --max-steps 3)
wait_checkpoint "$RESULTS/slurm-requeue/sgdm-lr0.05-wd0.0005/seed-1" 120
scontrol requeue "${JOB}_0"
echo "test-slurm: slurm-requeue: task ${JOB}_0 requeued after epoch $(values "$RESULTS/slurm-requeue/sgdm-lr0.05-wd0.0005/seed-1/checkpoint/trainer.json" nextEpoch)"
wait_job "$JOB" 300
check_resumed slurm-requeue 6

# Back to the time limit: the task must have been stopped by Slurm, the run left unfinished with a checkpoint.
wait_job "$TIMEOUT_JOB" 240
EPOCH=$(values "$TIMEOUT_DIR/checkpoint/trainer.json" nextEpoch)
echo "test-slurm: slurm-timeout: job $TIMEOUT_JOB stopped at its time limit with epoch $EPOCH checkpointed: run.json status $(values "$TIMEOUT_DIR/run.json" status) ($( [ "$(values "$TIMEOUT_DIR/run.json" status)" = running ] && echo "SIGKILL after KillWait" || echo "SIGTERM handled")); task log:"
grep -A3 "DUE TO TIME LIMIT" "$RESULTS"/slurm-timeout/slurm/*.out || { echo "test-slurm: the task was not stopped by its time limit" >&2; exit 1; }
[ -n "$EPOCH" ] && [ "$EPOCH" -ge 1 ] || { echo "test-slurm: the time-limited task left no checkpoint" >&2; exit 1; }
[ "$(values "$TIMEOUT_DIR/run.json" status)" != completed ] || { echo "test-slurm: the time-limited run should not be completed" >&2; exit 1; }
# The same sweep again (with room to finish: one more epoch than the checkpoint holds).
JOB=$(submit slurm-timeout --time 5 --max-steps 1 --epochs $((EPOCH + 1)))
wait_job "$JOB" 180
check_resumed slurm-timeout $((EPOCH + 1))

echo "test-slurm: OK (4-run sweep; scancel + resubmit, time limit + resubmit, scontrol requeue: each run completed once, resumed from its checkpoint)"
