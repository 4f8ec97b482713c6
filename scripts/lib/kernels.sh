# Shared by scripts/test-kernels.sh and scripts/test-suite.sh (source it; it defines functions only).
#
# OpenBLAS (built with DYNAMIC_ARCH, as Debian's is) picks its kernels at run time; OPENBLAS_CORETYPE
# forces a family. OpenBLAS 0.3.21 does not check that the CPU can run a forced family (an AVX-512
# kernel on an AVX2 CPU dies of an illegal instruction), so these functions read the CPU's flags.

KERNEL_FAMILIES="Prescott Nehalem Sandybridge Haswell Zen SkylakeX Cooperlake"

# kernel_needs FAMILY: the CPU flags an x86-64 kernel family of OpenBLAS needs (status 1: unknown family).
kernel_needs() {
    case "$1" in
        Prescott) echo "pni" ;;
        Core2) echo "ssse3" ;;
        Nehalem) echo "sse4_2" ;;
        Sandybridge) echo "avx" ;;
        Haswell|Zen) echo "avx2 fma" ;;
        SkylakeX) echo "avx512f avx512cd avx512bw avx512dq avx512vl" ;;
        Cooperlake) echo "avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16" ;;
        *) return 1 ;;
    esac
}

CPU_FLAGS=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "

# kernel_can_run FAMILY: status 0 when this CPU has every flag the family needs, 1 when it lacks one,
# 2 for a family this file does not know.
kernel_can_run() {
    local flag required
    required="$(kernel_needs "$1")" || return 2
    for flag in $required; do
        case "$CPU_FLAGS" in *" $flag "*) ;; *) return 1 ;; esac
    done
    return 0
}

# second_kernel_family: a kernel family this CPU can run that is not the one OpenBLAS picks for it,
# one instruction-set generation down: Haswell on AVX-512 hosts, Sandybridge on AVX2 hosts, Nehalem on
# AVX-only hosts, Prescott below that. Prints nothing on a CPU that is not x86-64 (status 1).
second_kernel_family() {
    [ "$(uname -m)" = "x86_64" ] || return 1
    if kernel_can_run SkylakeX; then echo Haswell
    elif kernel_can_run Haswell; then echo Sandybridge
    elif kernel_can_run Sandybridge; then echo Nehalem
    else echo Prescott
    fi
}
