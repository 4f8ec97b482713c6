import Foundation
import XCTest

/// Which OpenBLAS kernels this test process runs, printed for `scripts/test-kernels.sh`, which
/// forces each kernel family in turn with OPENBLAS_CORETYPE: OpenBLAS 0.3.21 falls back to its own
/// choice, silently, for a name it does not know, so a forced run that did not take effect must
/// fail rather than pass as a run of another family.
final class KernelReportTests: XCTestCase {
    func testTheForcedKernelFamilyIsTheOneRunning() throws {
        let symbol = try XCTUnwrap(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_corename"),
                                   "the BLAS library is not OpenBLAS (no openblas_get_corename)")
        let corename = unsafeBitCast(symbol, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
        let name = try XCTUnwrap(corename().map { String(cString: $0) })
        print("OpenBLAS kernel: \(name)")
        XCTAssertFalse(name.isEmpty)
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty {
            XCTAssertEqual(name.lowercased(), forced.lowercased(), "OPENBLAS_CORETYPE=\(forced) did not take effect")
        }
    }
}
