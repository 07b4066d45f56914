/// ModelPort's own compute kernels, written once over SIMD vectors and
/// compiled for each CPU feature level.
///
/// The algorithms in this module are generic over the vector type
/// (`SIMD8<Float>`, `SIMD16<Float>`) and `@inlinable`: they are compiled, not
/// here, but in the modules that instantiate them for one instruction set —
/// ModelPortKernelsAVX2 (built for AVX2 + FMA) and ModelPortKernelsAVX512
/// (AVX-512) — so each gets that CPU's registers and fused multiply-adds.
/// ModelPortRuntime picks the widest family the CPU supports at run time
/// (`CPUKernels`), and falls back to OpenBLAS where there is none.
///
/// Incremental builds: SwiftPM does not recompile the family modules when
/// only an `@inlinable` body here changes (the module's interface is the
/// same), so they keep the old kernels; touch
/// `Sources/ModelPortKernels{AVX2,AVX512}/*.swift` after such a change.
///
/// A family is a set of entry points with the same contract, whatever the
/// vector width; only `panelWidth` (the packed weight layout) differs.
public protocol KernelFamily: Sendable {
    /// A short name for reports: "AVX2+FMA", "AVX-512".
    static var name: String { get }
    /// Columns of one packed weight panel (two vectors): the `PackedMatrix`
    /// layout this family reads.
    static var panelWidth: Int { get }
    /// `c[r] = act(a[r] · b + bias)` for rows `rows` of the implicit matrix
    /// `a`, written to `c` (row `r` at `c.base + (r - rows.lowerBound) * c.rowStride`).
    static func multiply(_ a: ImplicitMatrix, rows: Range<Int>, by b: PackedMatrix, into c: OutputRows, relu: Bool)
    /// Winograd F(2x2, 3x3) convolution of one image, see `WinogradProblem`.
    static func winograd(_ problem: WinogradProblem)
    /// `function` (sigmoid or swish) in place on `count` floats, see `ExpFunction`.
    static func apply(_ function: ExpFunction, _ x: UnsafeMutablePointer<Float>, count: Int)
}
