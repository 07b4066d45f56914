/// The vector type a kernel family computes with (`SIMD8<Float>` for AVX2,
/// `SIMD16<Float>` for AVX-512), plus the two lane-wise selections the
/// kernels need.
///
/// Arithmetic comes from `SIMD` itself: after specialization LLVM turns its
/// lane loops into single vector instructions. Masked selections do not
/// vectorise through the generic `SIMD` code, so each family module
/// implements these on its concrete vector type, where the standard
/// library's vector builtins apply.
public protocol KernelVector: SIMD where Scalar == Float {
    /// ReLU as `Activation.relu` computes it: lanes <= 0 (-0 included)
    /// become +0, NaN stays NaN.
    static func rectified(_ v: Self) -> Self
    /// Lane-wise `v` where `v > d` or `v` is NaN, else `d`: one step of max
    /// pooling in MaxPooling2D's order (the first maximum wins; a NaN wins).
    static func pick(_ v: Self, over d: Self) -> Self
    /// `v` clamped to [`lo`, `hi`] lane by lane; NaN stays NaN.
    static func clamped(_ v: Self, _ lo: Self, _ hi: Self) -> Self
    /// `e` where `x` <= 88.7228 (e^x is finite in float) or NaN, else +infinity.
    static func overflowing(_ e: Self, where x: Self) -> Self
    /// `2^n` for integral `n` in [-126, 127], built in the exponent bits (no
    /// float-to-integer conversion, which would trap on NaN; a NaN `n` gives
    /// some finite value).
    static func powerOfTwo(_ n: Self) -> Self
}

/// Lane-by-lane versions for vector types without builtins (the tests' own).
extension KernelVector {
    @inlinable
    public static func clamped(_ v: Self, _ lo: Self, _ hi: Self) -> Self {
        v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
    }

    @inlinable
    public static func overflowing(_ e: Self, where x: Self) -> Self {
        e.replacing(with: .infinity, where: x .> 88.7228394)
    }

    @inlinable
    public static func powerOfTwo(_ n: Self) -> Self {
        // 2^23 + 127 + n: its low mantissa bits hold the biased exponent n + 127.
        let biased = n + 8_388_735
        return unsafeBitCast(unsafeBitCast(biased, to: MaskStorage.self) &<< 23, to: Self.self)
    }
}
