import CBLAS
import Foundation

/// Row-major single-precision matrix multiply:
/// `C[m x n] = A[m x k] * B[k x n] + beta * C`.
///
/// The only entry point into BLAS; every dense and convolution kernel goes
/// through it. With a ModelPort kernel family selected (`CPUKernels`) it
/// runs on that family (`kernelSGEMM`), else through OpenBLAS.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           c: UnsafeMutablePointer<Float>, ldc: Int,
           beta: Float = 0) {
    sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, beta: beta)
}

/// Row-major single-precision matrix multiply with optionally transposed
/// operands: `C[m x n] = op(A)[m x k] * op(B)[k x n] + beta * C`, where
/// `op(A)` is `A` (stored `m x k`) or `Aᵀ` (stored `k x m`), likewise `B`.
///
/// Backward passes use it: `dW += Xᵀ·dY` (`transA`, `beta: 1` adds into the
/// gradient buffer) and `dX = dY·Wᵀ` (`transB`).
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           c: UnsafeMutablePointer<Float>, ldc: Int,
           beta: Float = 0) {
    guard m > 0, n > 0 else { return }
    if let family = CPUKernels.family, beta == 0 || beta == 1 {
        kernelSGEMM(family, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                    c: c, ldc: ldc, accumulate: beta == 1)
        return
    }
    BLAS.ensureLoaded
    modelport_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The BLAS library behind `sgemm`: OpenBLAS, loaded on first use with the
/// kernel family `MODELPORT_BLAS_CORETYPE` names, else the widest the CPU
/// supports (an `OPENBLAS_CORETYPE` in the environment is set aside: see
/// Sources/CBLAS/modelport_blas.c), and kept single-threaded — ModelPort
/// parallelises over the batch itself (see `parallelChunks`), and two thread
/// pools on two cores fight.
public enum BLAS {
    static let ensureLoaded: Void = {
        if let message = modelport_blas_load() {
            fatalError("ModelPort: \(String(cString: message))")
        }
    }()

    /// Rows per sgemm call for which OpenBLAS's AVX-512 kernels (SkylakeX
    /// family) take their small-matrix path, which multiplies in place
    /// instead of first copying ("packing") both operands: splitting a
    /// convolution's unfolded matrix into blocks of 32 rows saved ~10% of the
    /// tutorial CNN's inference (docs/PERFORMANCE.md). nil for other kernel
    /// families, where each block would repack the weights (slower).
    public static let unpackedRowBlock: Int? = {
        ensureLoaded
        let core = String(cString: modelport_blas_corename()).lowercased()
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(core) ? 32 : nil
    }()

    /// A one-line description for benchmarks and bug reports, e.g.
    /// "OpenBLAS 0.3.21 (Cooperlake kernels, chosen by ModelPort)".
    public static var description: String {
        if let message = modelport_blas_load() { return String(cString: message) }
        let config = String(cString: modelport_blas_config())
        let version = config.split(separator: " ").prefix(2).joined(separator: " ")
        let core = String(cString: modelport_blas_corename())
        var notes = ["\(core) kernels"]
        if let forced = getenv("MODELPORT_BLAS_CORETYPE"), forced.pointee != 0 {
            notes.append("MODELPORT_BLAS_CORETYPE=\(String(cString: forced))")
        } else if modelport_blas_chosen_coretype() != nil {
            notes.append("chosen by ModelPort")
        }
        if let set = modelport_blas_overridden() {
            notes.append("OPENBLAS_CORETYPE=\(String(cString: set)) ignored")
        }
        return "\(version.isEmpty ? "BLAS" : version) (\(notes.joined(separator: ", ")))"
    }
}
