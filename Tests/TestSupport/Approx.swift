import ModelPortRuntime

/// Largest |a - b| over two tensors of the same shape (infinity if shapes differ).
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    var m: Float = 0
    for i in 0..<a.count {
        let d = abs(a.scalars[i] - b.scalars[i])
        if d.isNaN { return .nan }
        m = max(m, d)
    }
    return m
}

/// A deterministic pseudo-random tensor in [-1, 1) (SplitMix64), for kernel tests.
public func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    let n = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        values[i] = Float(z >> 40) / Float(1 << 23) - 1
    }
    return Tensor(shape: shape, scalars: values)
}
