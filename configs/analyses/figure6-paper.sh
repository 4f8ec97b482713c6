#!/bin/sh
# Figure 6 at the paper's scale (App. E): 10 dimensions, 50,000 Gaussian samples, 100 repeats per
# optimizer and k, a finer k grid and a step cap of 10^6 so that no repeat is censored. About 15 seconds
# on 2 cores. The paper's learning rates and k values are not public (docs/paper.md §4.5);
# these are the calibrated ones of figure6-small.sh.
# Usage: sh configs/analyses/figure6-paper.sh [RESULTS_DIR]   (default results/analyses/figure6-paper)
set -e
OUT=${1:-results/analyses/figure6-paper}
BIN=${ADAI_BENCH:-.build/release/adai-bench}
"$BIN" escape \
  --optimizer sgdm:lr=0.0004:momentum=0.9 \
  --optimizer adam:lr=0.12 \
  --optimizer adai:lr=0.004 \
  --k 0.9,1,1.1,1.25,1.5,1.75,2,2.5,3,3.5,4 --dim 10 --samples 50000 --noise-scale 1 --batch-size 1 \
  --repeats 100 --max-steps 1000000 --seed 0 --out "$OUT"
