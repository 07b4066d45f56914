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
}
