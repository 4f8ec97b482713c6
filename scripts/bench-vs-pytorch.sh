#!/usr/bin/env bash
# Runs `adai-bench bench` and the same workloads in PyTorch, out of the box and tuned (tcmalloc preloaded,
# channels_last), alternately in one invocation, and prints the ratios per workload. Not part of CI.
#
#   scripts/bench-vs-pytorch.sh --paper-code DIR [--rounds 3] [--threads 2] [--steps 5] [--models "resnet18 vgg16 lstm"]
#
# DIR is a checkout of the paper's repository (zeke-xie/adaptive-inertia-adai), whose model classes the
# PyTorch side imports (scripts/fixtures/paper_models.py); only `--models lstm` runs without it.
# Models: resnet18, vgg16 (10 classes, batch 128), resnet34, densenet121, googlenet (100 classes,
# batch 128), lstm (batch 20 × BPTT 35). Inference is timed at batch 256 (image models).
#
# Installs PyTorch into a throwaway virtualenv (.venv-bench, git-ignored) and Debian's
# libtcmalloc-minimal4 when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 threads=2 steps=5 models="resnet18 vgg16 lstm" paper_code=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --paper-code) paper_code="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench-vs-pytorch: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

paper_flags=(); [ -n "$paper_code" ] && paper_flags=(--paper-code "$paper_code")

venv=.venv-bench
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    echo "bench-vs-pytorch: installing PyTorch into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy
fi
tcmalloc=$(ls /usr/lib/*/libtcmalloc_minimal.so.4 2>/dev/null | head -n 1 || true)
if [ -z "$tcmalloc" ]; then
    echo "bench-vs-pytorch: installing libtcmalloc-minimal4" >&2
    apt-get install -y -qq libtcmalloc-minimal4 >/dev/null
    tcmalloc=$(ls /usr/lib/*/libtcmalloc_minimal.so.4 | head -n 1)
fi
scripts/install-deps.sh
swift build -c release --product adai-bench >/dev/null
ours=.build/release/adai-bench

field() { "$venv/bin/python" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
median() { sort -g | awk '{a[NR]=$1} END {printf "%.6f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf "%s threads, %s rounds of %s steps, medians; CPU: %s\n" "$threads" "$rounds" "$steps" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
printf "%-10s %-6s %12s %12s %12s %9s %9s\n" workload mode adai-bench "torch (ootb)" "torch (tuned)" "vs ootb" "vs tuned"
for model in $models; do
    batch=128; [ "$model" = lstm ] && batch=20
    classes=10; case "$model" in resnet34|densenet121|googlenet) classes=100 ;; esac
    declare -A results=()
    for round in $(seq "$rounds"); do
        results[ours]+="$("$ours" bench --model "$model" --batch "$batch" --classes "$classes" --steps "$steps" --threads "$threads" --json) "$'\n'
        results[ootb]+="$("$venv/bin/python" scripts/bench_pytorch.py --model "$model" --batch "$batch" --classes "$classes" --steps "$steps" --threads "$threads" "${paper_flags[@]}")"$'\n'
        tuned_flags=(); [ "$model" != lstm ] && tuned_flags=(--channels-last)
        results[tuned]+="$(LD_PRELOAD="$tcmalloc" "$venv/bin/python" scripts/bench_pytorch.py --model "$model" --batch "$batch" \
            --classes "$classes" --steps "$steps" --threads "$threads" "${tuned_flags[@]}" "${paper_flags[@]}")"$'\n'
    done
    for mode in train infer; do
        key=${mode}_per_second
        o=$(echo -n "${results[ours]}" | while read -r line; do echo "$line" | field "$key"; done | median)
        b=$(echo -n "${results[ootb]}" | while read -r line; do echo "$line" | field "$key"; done | median)
        t=$(echo -n "${results[tuned]}" | while read -r line; do echo "$line" | field "$key"; done | median)
        printf "%-10s %-6s %12.1f %12.1f %12.1f %8.2fx %8.2fx\n" "$model" "$mode" "$o" "$b" "$t" \
            "$(echo "$o / $b" | bc -l)" "$(echo "$o / $t" | bc -l)"
    done
    # Peak resident memory after the training steps, and after inference (batch 256) too.
    for who in ours ootb tuned; do
        train_rss=$(echo -n "${results[$who]}" | while read -r line; do echo "$line" | field train_peak_rss_bytes; done | median)
        rss=$(echo -n "${results[$who]}" | while read -r line; do echo "$line" | field peak_rss_bytes; done | median)
        printf "%-10s peak RSS %-6s %8.0f MiB training, %8.0f MiB with inference\n" "$model" "$who" \
            "$(echo "$train_rss / 1048576" | bc -l)" "$(echo "$rss / 1048576" | bc -l)"
    done
    unset results
done
