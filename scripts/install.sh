#!/usr/bin/env bash
# Installs a release build of adai-bench under PREFIX (default ~/.local): the binaries in PREFIX/bin and the files
# they read at run time (the paper's configs and tables) in PREFIX/share/adai-bench, where the binary looks for
# them when the working directory has none (README.md, "Installing"; Sources/Experiments/ProjectFiles.swift).
#   scripts/install.sh [PREFIX]
# Set ADAI_BENCH_PORTABLE=1 for a binary that must also run on other CPUs than this one (Package.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-$HOME/.local}"
scripts/install-deps.sh
swift build -c release --product adai-bench
bin="$(swift build -c release --show-bin-path)"
mkdir -p "$prefix/bin" "$prefix/share/adai-bench/results"
install -m 755 "$bin/adai-bench" "$prefix/bin/adai-bench"
rm -rf "$prefix/share/adai-bench/configs" "$prefix/share/adai-bench/results/paper"
cp -R configs "$prefix/share/adai-bench/configs"
cp -R results/paper "$prefix/share/adai-bench/results/paper"
echo "installed $prefix/bin/adai-bench and its configs and paper tables in $prefix/share/adai-bench"
