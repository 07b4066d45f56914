/// Keras's `metrics=["accuracy"]`, resolved the way Keras resolves it from
/// the loss and output shape: binary accuracy (threshold 0.5) for binary
/// cross-entropy or a single output unit, sparse categorical accuracy for
/// integer labels, categorical accuracy (arg-max agreement) otherwise.
/// Arg-max ties go to the first index, as in TensorFlow.
public enum Accuracy: Sendable, Equatable {
    case categorical, sparseCategorical, binary

    public init(loss: Loss, outputUnits: Int) {
        switch loss {
        case .binaryCrossentropy: self = .binary
        case .sparseCategoricalCrossentropy: self = .sparseCategorical
        default: self = outputUnits == 1 ? .binary : .categorical
        }
    }

    /// Sum over this chunk's samples of each sample's accuracy (the mean
    /// over its rows and, for binary, its elements).
    public func correctSum(output: Tensor, target: Tensor) -> Double {
        let c = output.shape.last ?? 1
        let rows = output.count / c
        let samples = max(output.batchCount, 1)
        let rowsPerSample = max(rows / samples, 1)
        var hits: Double = 0
        output.scalars.withUnsafeBufferPointer { y in
            target.scalars.withUnsafeBufferPointer { t in
                for r in 0..<rows {
                    let o = r * c
                    switch self {
                    case .binary:
                        var ok = 0
                        for j in 0..<c where (y[o + j] > 0.5 ? 1 : 0) == t[o + j] { ok += 1 }
                        hits += Double(ok) / Double(c)
                    case .categorical, .sparseCategorical:
                        var best = 0
                        for j in 1..<max(c, 1) where y[o + j] > y[o + best] { best = j }
                        let label: Int
                        if self == .sparseCategorical {
                            label = Int(t[r])
                        } else {
                            var l = 0
                            for j in 1..<max(c, 1) where t[o + j] > t[o + l] { l = j }
                            label = l
                        }
                        if best == label { hits += 1 }
                    }
                }
            }
        }
        return hits / Double(rowsPerSample)
    }
}
