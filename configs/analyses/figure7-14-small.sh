#!/bin/sh
# Figures 7 and 14 at a small scale (about 6 minutes on 2 cores): train the quick-start runs
# (synthetic CIFAR-10-like data, resnet-tiny, Adai / SGD-M / Adam, 6 epochs), then measure at each
# final checkpoint the top Hessian eigenvalues and trace (Figure 7) and the expected sharpness
# (Figure 14) of the training loss on the first 4 × 128 training examples.
# Usage: sh configs/analyses/figure7-14-small.sh [RESULTS_DIR]   (default results/analyses)
set -e
RESULTS=${1:-results/analyses}
BIN=${ADAI_BENCH:-.build/release/adai-bench}
"$BIN" train --config configs/quickstart.json --results "$RESULTS" --resume
for RUN in "$RESULTS"/quickstart/*/seed-1; do
  NAME=$(basename "$(dirname "$RUN")")
  "$BIN" hessian --run "$RUN" --batches 4 --top 5 --iterations 20 --trace --trace-samples 30 --out "$RESULTS/quickstart/hessian-$NAME.csv"
  "$BIN" sharpness --run "$RUN" --batches 4 --sigma 0.005,0.01,0.02,0.05 --samples 20 --out "$RESULTS/quickstart/sharpness-$NAME.csv"
done
