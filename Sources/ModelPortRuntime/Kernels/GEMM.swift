import CBLAS

/// Row-major single-precision matrix multiply through OpenBLAS:
/// `C[m x n] = A[m x k] * B[k x n] + beta * C`.
///
/// The only entry point into BLAS; every dense and convolution kernel goes
/// through it.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           c: UnsafeMutablePointer<Float>, ldc: Int,
           beta: Float = 0) {
    guard m > 0, n > 0 else { return }
    BLASThreads.configureOnce
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// OpenBLAS runs single-threaded: ModelPort parallelises over the batch
/// itself (see `parallelChunks`), and two thread pools on two cores fight.
enum BLASThreads {
    static let configureOnce: Void = { openblas_set_num_threads(1) }()
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
    BLASThreads.configureOnce
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}
