#!/usr/bin/env bash
# Runs the whole test suite twice: once on the OpenBLAS kernels this CPU gets by default, and once
# more under a second kernel family forced with OPENBLAS_CORETYPE (Haswell on AVX-512 hosts,
# Sandybridge on AVX2 hosts: scripts/lib/kernels.sh). A test that only passes on the CPU whose numbers
# it stores then fails on every host, the one it was written on included. The README's test command
# and .ci/run call it in place of a bare `swift test`.
#
#   scripts/test-suite.sh [extra swift test arguments, e.g. --filter ExperimentsTests]
#
# Each pass's log is kept in .build/test-suite/; at the end a line per pass gives its kernel, its test
# count and failures, and its wall time. Exit status 0 only when both passes passed. On a CPU that is
# not x86-64 only the first pass runs (no second family to force), and it says so.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/kernels.sh
source scripts/lib/kernels.sh

LOGS=.build/test-suite
mkdir -p "$LOGS"
SUMMARY=()
FAILED=0

# pass NAME [ENV=VALUE...] -- SWIFT-TEST-ARGUMENTS: one run of the suite, shown as it runs and logged.
pass() {
    local name="$1"; shift
    local environment=()
    while [ "$1" != "--" ]; do environment+=("$1"); shift; done
    shift
    local log="$LOGS/$name.log" started status counts kernel
    echo "test-suite: [$name] ${environment[*]} swift test $*"
    started=$(date +%s)
    env "${environment[@]}" swift test "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    local seconds=$(( $(date +%s) - started ))
    counts="$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -1 | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 tests, \2 failures/')"
    kernel="$(grep -m1 -o 'OpenBLAS kernel: [A-Za-z0-9_]*' "$log" | cut -d' ' -f3)"
    [ "$status" -eq 0 ] || FAILED=1
    SUMMARY+=("$(printf '%-8s %-7s kernel %-12s %-26s %5ss' "$name" "$([ "$status" -eq 0 ] && echo passed || echo FAILED)" "${kernel:-?}" "${counts:-no count}" "$seconds")")
}

pass native -- "$@"
if second="$(second_kernel_family)"; then
    pass second OPENBLAS_CORETYPE="$second" -- --skip-build "$@"
else
    SUMMARY+=("second   not run: $(uname -m) is not x86-64, so there is no second OpenBLAS kernel family to force")
fi

echo
echo "test-suite: summary (logs in $LOGS/)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
exit $FAILED
