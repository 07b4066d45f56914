import ModelPortKernels

/// ModelPort's kernels compiled for AVX2 with FMA (Package.swift builds this
/// module for Haswell-level x86-64): 8-float vectors, 16-column panels.
/// Called only on CPUs that have these instructions (`CPUKernels`).
public enum AVX2Kernels: KernelFamily {
    public static let name = "AVX2+FMA"
    public static let panelWidth = 16

    public static func multiply(_ a: ImplicitMatrix, rows: Range<Int>, by b: PackedMatrix, into c: OutputRows, relu: Bool) {
        panelProduct(SIMD8<Float>.self, a, rows: rows, by: b, into: c, relu: relu)
    }

    public static func winograd(_ problem: WinogradProblem) {
        winogradF2x3(SIMD8<Float>.self, problem)
    }

    public static func apply(_ function: ExpFunction, _ x: UnsafeMutablePointer<Float>, count: Int) {
        applyExpFunction(SIMD8<Float>.self, function, x, count: count)
    }
}

extension SIMD8: KernelVector where Scalar == Float {
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
        let bits = unsafeBitCast(n + 8_388_735, to: SIMD8<UInt32>.self) &<< 23
        return unsafeBitCast(bits, to: Self.self)
    }
}
