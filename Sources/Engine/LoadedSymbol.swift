import Foundation

/// The address of a C function in any library loaded into the process (dlsym with RTLD_DEFAULT,
/// a null handle on Linux), or nil where it does not exist: for functions of the C library or of
/// OpenBLAS that are not in Swift's modules or not in every build.
func loadedSymbol(_ name: String) -> UnsafeMutableRawPointer? {
    dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
}
