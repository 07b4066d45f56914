/// Repeats a vector sample `n` times: `(features) -> (n, features)`.
public final class RepeatVector: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "RepeatVector" }
    public let count: Int

    public init(name: String, count: Int) {
        precondition(count > 0)
        self.name = name
        self.count = count
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 1 else { throw RuntimeError("expects vector samples, got \(inputShape)") }
        return [count, inputShape[0]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let f = input.sampleCount
        var scalars: [Float] = []
        scalars.reserveCapacity(input.count * count)
        for b in 0..<input.batchCount {
            let row = input.sample(b)
            for _ in 0..<count { scalars.append(contentsOf: row) }
        }
        return Tensor(shape: [input.batchCount, count, f], scalars: scalars)
    }
}

// MARK: - Training

extension RepeatVector: TrainableLayer {
    /// Nothing: the gradient of a vector is the sum over its `count` copies.
    public struct Cache: LayerCache {}

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache())
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let n = outputGradient.shape[0], f = outputGradient.shape[2]
        precondition(outputGradient.shape == [n, count, f], "\(name): gradient shape \(outputGradient.shape)")
        var dx = Tensor(zeros: [n, f])
        for b in 0..<n {
            for r in 0..<count {
                let src = (b * count + r) * f
                for j in 0..<f { dx.scalars[b * f + j] += outputGradient.scalars[src + j] }
            }
        }
        return dx
    }
}
