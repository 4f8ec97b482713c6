#!/bin/sh
# Figures 7 and 14 at the paper's scale: the CIFAR-10 ResNet-18 runs of Adai, SGD-M and Adam
# (configs/cifar10-resnet18.json, 200 epochs; days on 2 cores, so train them on a bigger machine
# first), then the top 10 Hessian eigenvalues and trace and the expected sharpness of the training
# loss on 10 × 128 training examples at every final checkpoint.
# Usage: sh configs/analyses/figure7-14-paper.sh [RESULTS_DIR]   (default results)
set -e
RESULTS=${1:-results}
BIN=${ADAI_BENCH:-.build/release/adai-bench}
for OPT in adai sgdm adam; do
  "$BIN" train --config configs/cifar10-resnet18.json --optimizer $OPT --seed 1 --results "$RESULTS" --resume
done
for RUN in "$RESULTS"/cifar10-resnet18/adai-*/seed-1 "$RESULTS"/cifar10-resnet18/sgdm-*/seed-1 "$RESULTS"/cifar10-resnet18/adam-*/seed-1; do
  NAME=$(basename "$(dirname "$RUN")")
  "$BIN" hessian --run "$RUN" --batches 10 --top 10 --iterations 40 --trace --trace-samples 100 --out "$RESULTS/cifar10-resnet18/hessian-$NAME.csv"
  "$BIN" sharpness --run "$RUN" --batches 10 --sigma 0.001,0.002,0.005,0.01,0.02 --samples 50 --out "$RESULTS/cifar10-resnet18/sharpness-$NAME.csv"
done
