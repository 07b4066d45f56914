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
    var generator = SplitMix64(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in 2 * generator.nextFloat() - 1 })
}
