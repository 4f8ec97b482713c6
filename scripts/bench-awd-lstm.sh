#!/usr/bin/env bash
# AWD-LSTM training throughput, ours against the AdaMomentum authors' model class re-implemented in PyTorch
# (scripts/bench_awd_lstm.py): the authors' weight drop, batch 20, BPTT 70, 1 and 3 layers, the same thread
# count on both sides, alternating ours and PyTorch in each round so that both see the same machine load.
# Prints tokens/s per side (medians over rounds of per-round median steps) and the ratio ours / PyTorch.
#
#   scripts/bench-awd-lstm.sh [--python PATH] [--threads "1 2"] [--layers "1 3"] [--rounds 2] [--steps 3]
#
# --python is an interpreter with torch (default .venv-bench/bin/python, created with CPU PyTorch when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

python="" threads="1 2" layers="1 3" rounds=2 steps=3
while [ $# -gt 0 ]; do
    case "$1" in
        --python) python="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --layers) layers="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "bench-awd-lstm: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$python" ]; then
    python=.venv-bench/bin/python
    if [ ! -x "$python" ] || ! "$python" -c "import torch" 2>/dev/null; then
        echo "bench-awd-lstm: installing CPU PyTorch into .venv-bench" >&2
        python3 -m venv .venv-bench
        .venv-bench/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
    fi
fi
swift build -c release --product adai-bench >/dev/null
ours=.build/release/adai-bench

field() { "$python" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
median() { sort -g | awk '{a[NR]=$1} END {printf "%.1f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf "batch 20, BPTT 70, authors' weight drop; %s rounds of %s timed steps; torch %s; CPU: %s; load average %s\n" \
    "$rounds" "$steps" "$("$python" -c 'import torch; print(torch.__version__)')" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-7s %-8s %14s %14s %8s\n" layers threads "ours tok/s" "torch tok/s" "ratio"
for n in $layers; do
    for t in $threads; do
        o="" p=""
        for _ in $(seq "$rounds"); do
            o+="$("$ours" bench --model "awd-lstm-${n}layer" --batch 20 --bptt 70 --steps "$steps" --threads "$t" --json | field train_per_second)"$'\n'
            p+="$(OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "$python" scripts/bench_awd_lstm.py --layers "$n" --batch 20 --bptt 70 --steps "$steps" --threads "$t" | field train_per_second)"$'\n'
        done
        mo=$(printf "%s" "$o" | median) mp=$(printf "%s" "$p" | median)
        printf "%-7s %-8s %14s %14s %7.2fx\n" "$n" "$t" "$mo" "$mp" "$(echo "$mo / $mp" | bc -l)"
    done
done
