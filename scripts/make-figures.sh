#!/usr/bin/env bash
# Regenerates every figure of the documentation from real runs: the README's quick-start figure
# (docs/quickstart-curves.png) and the gallery docs/figures.md with docs/figures/*.png, one figure per plot kind.
# Trains the quick start (two seeds), a small lr × wd sweep, and runs the escape, saddle, Hessian and sharpness
# analyses at small sizes: about 5 minutes on 2 cores with a release build. Run from anywhere:
#     scripts/make-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/adai-bench
[ -x "$bin" ] || swift build -c release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=docs/figures
mkdir -p "$out"
dpi=110
log() { echo "make-figures: $*" >&2; }
# Every command that makes a figure's input or the figure is run through this, and listed in the gallery.
commands=()
step() { commands+=("$*"); "$@" >>"$work/log" 2>&1 || { tail -n 20 "$work/log" >&2; echo "make-figures: FAILED: $*" >&2; exit 1; }; }

log "quick start (seed 1), the README's figure"
step "$bin" train --config configs/quickstart.json --results "$work/results"
step "$bin" plot curves "$work/results/quickstart" --out docs/quickstart-curves.png --dpi 120
log "quick start, seed 2 (bands over seeds)"
step "$bin" train --config configs/quickstart.json --results "$work/results" --seed 2
step "$bin" plot curves "$work/results/quickstart" --out "$out/curves.png" --dpi $dpi
step "$bin" plot loss "$work/results/quickstart" --out "$out/loss.png" --dpi $dpi
log "a 4 × 3 sweep of Adam (2 epochs of 6 steps each)"
for lr in 0.0003 0.001 0.003 0.01; do
    for wd in 0 0.0005 0.005; do
        step "$bin" train --config configs/quickstart.json --results "$work/sweep" --optimizer adam --lr $lr --weight-decay $wd \
            --epochs 2 --max-steps 6
    done
done
step "$bin" plot heatmap "$work/sweep/quickstart" --optimizer adam --value best --out "$out/heatmap.png" --dpi $dpi
log "escape"
step "$bin" escape --optimizer sgdm:lr=0.002:momentum=0.9 --optimizer adam:lr=0.03 --optimizer adai:lr=0.02 --k 1,1.5,2,3 \
    --repeats 24 --samples 5000 --max-steps 20000 --out "$work/escape"
step "$bin" plot escape "$work/escape/escape.csv" --out "$out/escape.png" --dpi $dpi
log "saddle"
step "$bin" saddle --steps 600 --repeats 100 --out "$work/saddle.csv"
step "$bin" plot saddle "$work/saddle.csv" --out "$out/saddle.png" --dpi $dpi
log "Hessian and sharpness of the quick start's checkpoints"
hessians=() sharpness=() labels=()
for name in adai sgdm adam; do
    run=$(ls -d "$work/results/quickstart/$name"-*/seed-1)
    step "$bin" hessian --run "$run" --top 6 --trace --trace-samples 8 --batches 2 --out "$work/hessian-$name.csv"
    step "$bin" sharpness --run "$run" --sigma 0.002,0.005,0.01,0.02,0.05 --samples 8 --batches 2 --out "$work/sharpness-$name.csv"
    hessians+=("$work/hessian-$name.csv"); sharpness+=("$work/sharpness-$name.csv"); labels+=("$name")
done
step "$bin" plot hessian "${hessians[@]}" --label "${labels[@]}" --out "$out/hessian.png" --dpi $dpi
step "$bin" plot sharpness "${sharpness[@]}" --label "${labels[@]}" --out "$out/sharpness.png" --dpi $dpi

log "writing docs/figures.md"
{
    cat <<'MD'
# Figures

Every plot kind of `adai-bench plot`, as drawn from real runs by `scripts/make-figures.sh` (which wrote this
page and the PNGs below; run it again after changing a figure). The runs are the quick start's and small
analyses, so the numbers are not the paper's: the figures show what each plot kind looks like.

Every figure can be written as PNG (`--dpi`, default 150), PDF or SVG (`--format`, or the extension of
`--out`); line charts take `--width` and `--height` in points (default 360 × 240; one column of a two-column
paper is about 234 pt wide, a page about 486 pt); a heatmap's size follows its grid. Text is DejaVu Sans, lines
and markers use the Okabe–Ito palette, heatmaps the viridis ramp.

| figure | command |
|---|---|
| ![curves](figures/curves.png) | `adai-bench plot curves results/quickstart`: test error per epoch, mean ± std over seeds (shaded) |
| ![loss](figures/loss.png) | `adai-bench plot loss results/quickstart`: training loss on a log scale |
| ![heatmap](figures/heatmap.png) | `adai-bench plot heatmap results/<sweep> --optimizer adam --value best`: lr × wd grid, mean over seeds in each cell; `--basin` outlines the cells within `--basin-distance` of the lowest (Figure 5's basin, claim 11) |
| ![escape](figures/escape.png) | `adai-bench plot escape results/escape/escape.csv`: escape rate against 1/k with intervals and fitted lines (Figure 6); Adam (lr 0.03) did not escape once in these 4 × 24 repeats of at most 20 000 steps, so it has no points |
| ![hessian](figures/hessian.png) | `adai-bench plot hessian adai.csv sgdm.csv adam.csv`: top Hessian eigenvalues with Lanczos residual bars, traces in the legend (Figure 7) |
| ![sharpness](figures/sharpness.png) | `adai-bench plot sharpness adai.csv sgdm.csv adam.csv`: expected sharpness against σ, ± one standard error (Figure 14) |
| ![saddle](figures/saddle.png) | `adai-bench plot saddle saddle.csv`: mean squared displacement from a strict saddle |

## The commands that made them

MD
    echo '```sh'
    for c in "${commands[@]}"; do c="${c//$work/\$WORK}"; echo "${c//$bin/adai-bench}"; done
    echo '```'
} >docs/figures.md.tmp
mv docs/figures.md.tmp docs/figures.md
ls -l docs/quickstart-curves.png "$out"/*.png >&2
