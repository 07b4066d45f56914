import ModelPortKernels

/// ModelPort's kernels compiled for AVX-512 (Package.swift builds this
/// module for Skylake-server-level x86-64: F, CD, BW, DQ, VL): 16-float
/// vectors, 32-column panels. Called only on CPUs that have these
/// instructions (`CPUKernels`).
public enum AVX512Kernels: KernelFamily {
    public static let name = "AVX-512"
    public static let panelWidth = 32

    public static func multiply(_ a: ImplicitMatrix, rows: Range<Int>, by b: PackedMatrix, into c: OutputRows, relu: Bool) {
        panelProduct(SIMD16<Float>.self, a, rows: rows, by: b, into: c, relu: relu)
    }

    public static func winograd(_ problem: WinogradProblem) {
        winogradF2x3(SIMD16<Float>.self, problem)
    }

    public static func apply(_ function: ExpFunction, _ x: UnsafeMutablePointer<Float>, count: Int) {
        applyExpFunction(SIMD16<Float>.self, function, x, count: count)
    }
}

extension SIMD16: KernelVector where Scalar == Float {
    @inlinable @inline(__always)
    public static func rectified(_ v: Self) -> Self { v.replacing(with: 0, where: v .<= 0) }

    @inlinable @inline(__always)
    public static func pick(_ v: Self, over d: Self) -> Self { d.replacing(with: v, where: (v .> d) .| (v .!= v)) }

    @inlinable @inline(__always)
    public static func clamped(_ v: Self, _ lo: Self, _ hi: Self) -> Self {
        v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
    }

    @inlinable @inline(__always)
    public static func overflowing(_ e: Self, where x: Self) -> Self {
        e.replacing(with: .infinity, where: x .> 88.7228394)
    }

    @inlinable @inline(__always)
    public static func powerOfTwo(_ n: Self) -> Self {
        // 2^23 + 127 + n: its low mantissa bits hold the biased exponent n + 127.
        let bits = unsafeBitCast(n + 8_388_735, to: SIMD16<UInt32>.self) &<< 23
        return unsafeBitCast(bits, to: Self.self)
    }
}
