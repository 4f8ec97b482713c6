#!/usr/bin/env bash
# Installs the system libraries adai-bench links against (OpenBLAS, libpng, pkg-config)
# with apt-get when they are missing. Safe to run again: it does nothing when all are present.
set -euo pipefail

missing=()
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
pkg-config --exists libpng 2>/dev/null || missing+=(libpng-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)

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
"${run[@]}" apt-get install -y -qq pkg-config libopenblas-dev libpng-dev >/dev/null
