/// The activations built on exp, computed a vector at a time: `sigmoid`
/// (`1 / (1 + e^-x)`) and `swish` (`x / (1 + e^-x)`, Keras's `silu`), which
/// EfficientNet-style networks apply to every activation and every
/// squeeze-and-excitation gate. The scalar libm `expf` per element was a
/// quarter of such a network's time.
///
/// exp is Cephes's single-precision method, as Eigen (TensorFlow's CPU
/// kernels) also computes it: `e^x = 2^n * e^r` with `n = round(x / ln 2)`,
/// `r = x - n ln 2` in [-ln 2 / 2, ln 2 / 2] (ln 2 split in two parts so the
/// subtraction is exact), `e^r` by a degree-7 polynomial, `2^n` built in the
/// exponent bits. The sigmoid and swish it gives are within 4 ulps of libm's
/// (tested in double precision for every family). Arguments are
/// clamped to [-86.9, 88.72] first: below, the sigmoid and swish are already
/// 1 or the argument to float precision; above, e^x overflows float's range
/// and is infinite, as libm's is. NaN stays NaN. The lane selections this
/// needs (`clamped`, `overflowing`, `powerOfTwo`) are `KernelVector`
/// requirements, implemented on each family's concrete vector type: through
/// generic code they ran lane by lane, slower than libm.
public enum ExpFunction: Sendable, CaseIterable {
    case sigmoid, swish
}

extension KernelVector {
    /// `e^x` lane by lane for `x` in [-86.9, 88.72] (callers clamp; see
    /// `ExpFunction`); NaN lanes give NaN. Arithmetic only (the family's
    /// `powerOfTwo` aside), so it vectorises in generic code.
    @inlinable @inline(__always)
    static func exponentialInRange(_ x: Self) -> Self {
        // n = x / ln 2 rounded to nearest: adding and subtracting 1.5 * 2^23 rounds |t| < 2^22.
        let magic = Self(repeating: 12_582_912)
        let n = (x * 1.44269504088896341 + magic) - magic
        var r = x.addingProduct(n, Self(repeating: -0.693359375))
        r = r.addingProduct(n, Self(repeating: 2.12194440e-4))
        let r2 = r * r
        var p = Self(repeating: 1.3981999507e-3).addingProduct(Self(repeating: 1.9875691500e-4), r)
        p = Self(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = Self(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = Self(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = Self(repeating: 5.0000001201e-1).addingProduct(p, r)
        let er = (r + 1).addingProduct(p, r2)
        // 2^(n-1) * 2: n reaches 128 at the top of the range, past float's largest exponent.
        return er * Self.powerOfTwo(n - 1) * 2
    }
}

/// Applies `function` in place to `count` floats with vectors of type `V`
/// (the last partial vector through a zero-padded copy).
@inlinable
public func applyExpFunction<V: KernelVector>(_: V.Type, _ function: ExpFunction,
                                              _ x: UnsafeMutablePointer<Float>, count: Int) {
    let w = V.scalarCount
    let lo = V(repeating: -86.9), hi = V(repeating: 88.72)
    @inline(__always) func compute(_ v: V) -> V {
        let t = -v
        // e^-v: infinite past float's range, as libm's; NaN stays NaN through every step.
        let e = V.overflowing(V.exponentialInRange(V.clamped(t, lo, hi)), where: t)
        switch function {
        case .sigmoid: return 1 / (1 + e)
        case .swish: return v / (1 + e)
        }
    }
    var i = 0
    while i + w <= count {
        storeVector(compute(loadVector(x + i, as: V.self)), x + i)
        i += w
    }
    if i < count {
        var v = V()
        for k in 0..<(count - i) { v[k] = x[i + k] }
        let y = compute(v)
        for k in 0..<(count - i) { x[i + k] = y[k] }
    }
}
