#!/bin/sh
# Figure 6 at a small scale (about 10 seconds on 2 cores): mean escape time from the Styblinski–Tang
# valley against sharpness k for SGD with momentum, Adam and Adai (plus plain SGD).
# 10 dimensions, 50,000 Gaussian samples, noise scale 1, batch 1, 100 repeats, step cap 1e5.
# Learning rates are calibrated so that every optimizer's mean escape time at k = 1 is of order
# 10^4 iterations (the paper's values are not public; docs/paper.md §4.5).
# Usage: sh configs/analyses/figure6-small.sh [RESULTS_DIR]   (default results/analyses/figure6-small)
set -e
OUT=${1:-results/analyses/figure6-small}
BIN=${ADAI_BENCH:-.build/release/adai-bench}
"$BIN" escape \
  --optimizer sgdm:lr=0.0004:momentum=0.9 \
  --optimizer sgd:lr=0.004 \
  --optimizer adam:lr=0.12 \
  --optimizer adai:lr=0.004 \
  --k 1,1.25,1.5,2,2.5,3,4 --dim 10 --samples 50000 --noise-scale 1 --batch-size 1 \
  --repeats 100 --max-steps 100000 --seed 0 --out "$OUT"
