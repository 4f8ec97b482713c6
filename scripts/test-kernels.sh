#!/usr/bin/env bash
# Runs the tests that touch numerics under every OpenBLAS kernel family this CPU can run, and under
# release builds with and without -march=native, so that a tolerance that only holds for one CPU's
# kernels is found here rather than on a user's cluster node.
#
#   scripts/test-kernels.sh [--kernels "Haswell SkylakeX ..."] [--filter REGEX] [--no-release] [--list]
#
# OpenBLAS picks its kernels at run time; OPENBLAS_CORETYPE forces a family. A family the CPU cannot
# run is refused (scripts/lib/kernels.sh reads the CPU's flags). Each run's log is kept in
# .build/test-kernels/. `.ci/run` runs the whole suite under two families (scripts/test-suite.sh); this
# script runs the numeric targets under all of them.
#
# Steps:
#   1. the debug test build (`swift test`, as CI runs it) once per kernel family;
#   2. `swift test -c release` with -march=native (the build users run) on the default kernel;
#   3. the same with ADAI_BENCH_PORTABLE=1 (no -march=native), in its own build folder .build-portable.
# Exit status: 0 when every run passed, 1 otherwise; a summary table is printed at the end.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FILTER='EngineTests|NNTests|OptimTests|AnalysesTests|DatasetsTests.AugmentationTests'
REQUESTED=""
RELEASE=1
LIST_ONLY=0

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --kernels) [ $# -ge 2 ] || usage; REQUESTED="$2"; shift 2 ;;
        --filter) [ $# -ge 2 ] || usage; FILTER="$2"; shift 2 ;;
        --no-release) RELEASE=0; shift ;;
        --list) LIST_ONLY=1; shift ;;
        -h|--help) usage ;;
        *) echo "test-kernels: unknown argument '$1'" >&2; usage ;;
    esac
done

# shellcheck source=lib/kernels.sh
source scripts/lib/kernels.sh

KERNELS=()
if [ "$(uname -m)" != "x86_64" ]; then
    echo "test-kernels: $(uname -m) is not x86-64: only OpenBLAS's own choice of kernel is tested" >&2
    KERNELS=("default")
elif [ -n "$REQUESTED" ]; then
    for k in $REQUESTED; do
        kernel_can_run "$k"; status=$?
        if [ $status -eq 2 ]; then
            echo "test-kernels: unknown kernel family '$k' (known: $KERNEL_FAMILIES Core2)" >&2; exit 2
        elif [ $status -ne 0 ]; then
            echo "test-kernels: this CPU cannot run the $k kernels (it lacks one of: $(kernel_needs "$k")); refused" >&2; exit 2
        fi
        KERNELS+=("$k")
    done
else
    for k in $KERNEL_FAMILIES; do
        if kernel_can_run "$k"; then KERNELS+=("$k"); else echo "test-kernels: skipping $k: this CPU lacks one of $(kernel_needs "$k")"; fi
    done
fi

echo "test-kernels: CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "test-kernels: kernel families: ${KERNELS[*]}; release builds: $([ $RELEASE -eq 1 ] && echo 'native and portable' || echo none)"
echo "test-kernels: tests: $FILTER"
[ $LIST_ONLY -eq 1 ] && exit 0

scripts/install-deps.sh || exit 1
LOGS=.build/test-kernels
mkdir -p "$LOGS"
SUMMARY=()
FAILED=0

# run NAME COMMAND...: runs one test pass, keeps its log, records its verdict and worst margins.
run() {
    local name="$1"; shift
    local log="$LOGS/$name.log" started ended verdict
    started=$(date +%s)
    echo "test-kernels: [$name] $*"
    if "$@" >"$log" 2>&1; then verdict="passed"; else verdict="FAILED"; FAILED=1; fi
    ended=$(date +%s)
    local counts corename margin
    counts="$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -1 | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 tests, \2 failures/')"
    corename="$(grep -m1 -o 'OpenBLAS kernel: [A-Za-z0-9_]*' "$log" | cut -d' ' -f3)"
    margin="$(grep -o 'worst error / tolerance = [0-9.e+-]*' "$log" | awk '{ if ($NF + 0 > m) m = $NF + 0 } END { if (NR) printf "%.2f", m }')"
    SUMMARY+=("$(printf '%-22s %-7s %-26s kernel %-12s worst error/tolerance %-6s %4ss' "$name" "$verdict" "${counts:-no count}" "${corename:-?}" "${margin:--}" $((ended - started)))")
    if [ "$verdict" = "FAILED" ]; then
        echo "test-kernels: [$name] failed; the failures (full log: $log):"
        grep -E 'error: |failed \(' "$log" | head -20
    fi
}

swift build --build-tests >"$LOGS/build-debug.log" 2>&1 || { echo "test-kernels: the debug build failed (see $LOGS/build-debug.log)" >&2; exit 1; }
for k in "${KERNELS[@]}"; do
    if [ "$k" = "default" ]; then
        run "debug-default" swift test --skip-build --filter "$FILTER"
    else
        run "debug-$k" env OPENBLAS_CORETYPE="$k" swift test --skip-build --filter "$FILTER"
    fi
done
if [ $RELEASE -eq 1 ]; then
    # @testable imports need -enable-testing in release.
    run "release-native" swift test -c release -Xswiftc -enable-testing --filter "$FILTER"
    run "release-portable" env ADAI_BENCH_PORTABLE=1 swift test -c release -Xswiftc -enable-testing \
        --scratch-path .build-portable --filter "$FILTER"
fi

echo
echo "test-kernels: summary"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
exit $FAILED
