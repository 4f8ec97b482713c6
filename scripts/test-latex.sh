#!/usr/bin/env bash
# `adai-bench compare --format latex` compiled by pdflatex. Trains the quick start for one short epoch with two
# seeds (a few seconds in release), compares it with a small paper table, \input's the table into a LaTeX document
# and compiles it with pdflatex -halt-on-error. Installs texlive-latex-base with apt-get when pdflatex is missing
# (about 60 MB; once per machine) and FAILS, never skips, when pdflatex cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-latex: FAILED: $*" >&2; exit 1; }

if ! command -v pdflatex >/dev/null 2>&1; then
    echo "test-latex: pdflatex missing; installing texlive-latex-base with apt-get" >&2
    if [ "$(id -u)" -eq 0 ]; then run=(); elif command -v sudo >/dev/null 2>&1; then run=(sudo); else
        fail "pdflatex is missing and this user cannot install it (not root, no sudo): apt-get install texlive-latex-base"
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${run[@]}" apt-get update -qq || fail "apt-get update did not work; install texlive-latex-base by hand"
    "${run[@]}" apt-get install -y -qq --no-install-recommends texlive-latex-base >/dev/null \
        || fail "apt-get install texlive-latex-base did not work; install it by hand"
    command -v pdflatex >/dev/null 2>&1 || fail "texlive-latex-base is installed but pdflatex is not on PATH"
fi

bin=.build/release/adai-bench
[ -x "$bin" ] || swift build -c release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for seed in 1 2; do
    "$bin" train --config configs/quickstart.json --results "$work/results" --epochs 1 --max-steps 2 --seed "$seed" \
        >"$work/train-$seed.log" 2>&1 || { cat "$work/train-$seed.log" >&2; fail "training the quick start (seed $seed)"; }
done
# A paper table for the quick start's (data set, model): the numbers of Table 2's CIFAR-10 ResNet18 row, reused.
cat >"$work/paper.csv" <<'CSV'
# test input: Table 2's cifar10/resnet18 numbers under the quick start's model name
dataset,model,optimizer,mean,std
cifar10,resnet-tiny,sgdm,5.01,0.03
cifar10,resnet-tiny,adam,6.53,0.03
cifar10,resnet-tiny,adai,4.59,0.15
CSV

"$bin" compare "$work/results/quickstart" --paper "$work/paper.csv" --format latex --with-paper >"$work/table.tex" \
    || fail "compare --format latex"
"$bin" compare "$work/results/quickstart" --paper "$work/paper.csv" --format md --layout table >"$work/table.md" \
    || fail "compare --format md --layout table"
"$bin" compare "$work/results/quickstart" --paper "$work/paper.csv" --format csv --layout table >"$work/table.csv" \
    || fail "compare --format csv --layout table"
grep -q '\\mathbf{' "$work/table.tex" || fail "no bold best cell in the LaTeX table"

cat >"$work/paper.tex" <<'TEX'
\documentclass{article}
\begin{document}
\begin{table}
\centering
\input{table}
\caption{Test error (\%) of the quick start, mean and std over two seeds.}
\end{table}
\end{document}
TEX
(cd "$work" && pdflatex -interaction=nonstopmode -halt-on-error paper.tex >pdflatex.out 2>&1) || {
    tail -n 30 "$work/paper.log" >&2
    fail "pdflatex could not compile the table (log above); the table was:$(printf '\n'; cat "$work/table.tex")"
}
[ -s "$work/paper.pdf" ] || fail "pdflatex wrote no PDF"
if command -v pdftotext >/dev/null 2>&1; then
    text=$(pdftotext "$work/paper.pdf" -)
    for word in adai adam sgdm paper ours; do
        grep -q "$word" <<<"$text" || fail "the compiled table does not show '$word'"
    done
fi
echo "test-latex: OK: compare --format latex compiled by $(pdflatex --version | head -n 1)"
