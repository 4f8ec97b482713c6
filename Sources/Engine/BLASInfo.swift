import CBLAS

/// What OpenBLAS says about itself, for run provenance (the runner reads it here, not through the shim).
public enum BLASInfo {
    /// `openblas_get_config()`: version, build options and the kernel in use, e.g.
    /// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64".
    public static var config: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// `openblas_get_corename()`: the CPU kernel OpenBLAS chose at run time (e.g. "SkylakeX", "Haswell").
    public static var coreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }
}
