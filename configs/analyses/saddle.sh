#!/bin/sh
# Saddle escape (Theorems 1–2, Propositions 1 and 3): mean squared displacement along the negative-
# curvature direction of ½ Σ hᵢxᵢ², h = (1, 1, 1, 1, −0.01), from the saddle, under Hessian-shaped
# gradient noise, for SGD, SGD with momentum, Adam and Adai; then the same with a flatter escape
# direction (h_esc = −0.0001): SGD's diffusion shrinks with |h_esc|, Adam's barely changes.
# Seconds on 2 cores.
# Usage: sh configs/analyses/saddle.sh [RESULTS_DIR]   (default results/analyses)
set -e
OUT=${1:-results/analyses}
BIN=${ADAI_BENCH:-.build/release/adai-bench}
mkdir -p "$OUT"
for H in -0.01 -0.0001; do
  "$BIN" saddle --curvatures 1,1,1,1,$H --noise hessian --steps 2000 --every 20 --repeats 400 \
    --optimizer sgd:lr=0.1 --optimizer sgdm:lr=0.01:momentum=0.9 --optimizer adam:lr=0.01 --optimizer adai:lr=0.1 \
    --out "$OUT/saddle-h$H.csv"
done
