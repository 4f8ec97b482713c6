#!/usr/bin/env bash
# Installs the system libraries adai-bench links against (OpenBLAS, libpng, cairo, the DejaVu fonts
# that figures are set in, pkg-config; poppler-utils for the tests) with apt-get when they are missing. Safe to run again: it does
# nothing when all are present.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
pkg-config --exists libpng 2>/dev/null || missing+=(libpng-dev)
pkg-config --exists cairo 2>/dev/null || missing+=(libcairo2-dev)
# pdftoppm: the tests render the PDF figures with it.
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# grep reads fc-list's whole output: with pipefail, `grep -q` would stop early, fc-list would die of SIGPIPE, and
# the fonts would be reinstalled on every run.
{ command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep 'DejaVu Sans' >/dev/null; } || missing+=(fonts-dejavu-core fontconfig)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    run=()
elif command -v sudo >/dev/null 2>&1; then
    run=(sudo)
else
    echo "install-deps: ${missing[*]} missing and not root (no sudo either): install them with apt-get as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
