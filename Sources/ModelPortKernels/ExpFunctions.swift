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
/// exponent bits. Its error is within 2 ulp of the true value on the range
/// the sigmoid needs (tested against libm for every family). Arguments are
/// clamped to [-86.9, 88.72] first: below, the sigmoid and swish are already
/// 1 or the argument to float precision; above, e^x overflows float's range
/// and is infinite, as libm's is. NaN stays NaN.
public enum ExpFunction: Sendable, CaseIterable {
    case sigmoid, swish
}

extension KernelVector {
    /// `2^n` for integral `n` in [-126, 127], built in the exponent bits
    /// (no float-to-integer conversion, which would trap on NaN).
    @inlinable @inline(__always)
    static func powerOfTwo(_ n: Self) -> Self {
        // 2^23 + 127 + n: its low mantissa bits hold the biased exponent n + 127.
        let biased = n + 8_388_735
        return unsafeBitCast(unsafeBitCast(biased, to: MaskStorage.self) &<< 23, to: Self.self)
    }

    /// `e^x` lane by lane for `x` in [-86.9, 88.72] (callers clamp; see `ExpFunction`).
    @inlinable @inline(__always)
    static func exponentialInRange(_ x: Self) -> Self {
        let n = (x * 1.44269504088896341 + 0.5).rounded(.down)
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
        // e^-v (NaN lanes computed as 0, then put back).
        var e = V.exponentialInRange((-v).replacing(with: 0, where: v .!= v).clamped(lowerBound: lo, upperBound: hi))
        // Past float's range e^-v is infinite, as libm's: sigmoid 0, swish -0 (NaN at -inf).
        e.replace(with: .infinity, where: v .< -88.7228394)
        let y: V
        switch function {
        case .sigmoid: y = 1 / (1 + e)
        case .swish: y = v / (1 + e)
        }
        return y.replacing(with: v, where: v .!= v)
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
