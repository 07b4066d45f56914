/// Stacks equally shaped inputs along a new axis (`keras.ops.stack`,
/// `tf.stack`). Shapes exclude the batch axis; `axis` is the new axis among
/// the output's sample axes, 0-based, negative counting from the end.
public final class Stack: MergeLayer, @unchecked Sendable {
    public let name: String
    public let axis: Int
    public var typeName: String { "ops.stack" }

    public init(name: String, axis: Int) {
        self.name = name
        self.axis = axis
    }

    /// The new axis for inputs of rank `rank`, or nil when outside.
    func stackAxis(inputRank rank: Int) -> Int? {
        let a = axis < 0 ? rank + 1 + axis : axis
        return (0...rank).contains(a) ? a : nil
    }

    public func outputShape(forInputs shapes: [[Int]]) throws -> [Int] {
        guard let first = shapes.first, shapes.allSatisfy({ $0 == first }) else {
            throw RuntimeError("inputs must have equal shapes, got \(shapes)")
        }
        guard let a = stackAxis(inputRank: first.count) else {
            throw RuntimeError("axis \(axis) is outside the output's \(first.count + 1) sample axes")
        }
        var out = first
        out.insert(shapes.count, at: a)
        return out
    }

    /// (outer, inner) block sizes around the new axis.
    private func blocks(_ sampleShape: [Int]) -> (outer: Int, inner: Int) {
        let a = stackAxis(inputRank: sampleShape.count) ?? sampleShape.count
        return (sampleShape[..<a].reduce(1, *), sampleShape[a...].reduce(1, *))
    }

    public func forward(inputs: [Tensor]) -> Tensor {
        precondition(!inputs.isEmpty)
        let batch = inputs[0].batchCount
        let shape = inputs[0].sampleShape
        let (outer, inner) = blocks(shape)
        let n = inputs.count
        var scalars = [Float](repeating: 0, count: batch * outer * n * inner)
        for o in 0..<(batch * outer) {
            for (k, x) in inputs.enumerated() {
                let dst = (o * n + k) * inner
                for j in 0..<inner { scalars[dst + j] = x.scalars[o * inner + j] }
            }
        }
        var out = shape
        out.insert(n, at: stackAxis(inputRank: shape.count) ?? shape.count)
        return Tensor(shape: [batch] + out, scalars: scalars)
    }
}

// MARK: - Training

extension Stack: TrainableMergeLayer {
    /// The inputs' count and sample shape.
    public struct Cache: LayerCache {
        public let count: Int
        public let sampleShape: [Int]
    }

    public func forward(inputs: [Tensor], context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(inputs: inputs), Cache(count: inputs.count, sampleShape: inputs[0].sampleShape))
    }

    /// dY split back along the new axis, one slice per input.
    public func backward(inputsGradient dy: Tensor, cache: any LayerCache, gradients: Gradients) -> [Tensor] {
        let c = cache as! Cache
        let batch = dy.batchCount
        let (outer, inner) = blocks(c.sampleShape)
        var parts = (0..<c.count).map { _ in Tensor(zeros: [batch] + c.sampleShape) }
        for o in 0..<(batch * outer) {
            for k in 0..<c.count {
                let src = (o * c.count + k) * inner
                for j in 0..<inner { parts[k].scalars[o * inner + j] = dy.scalars[src + j] }
            }
        }
        return parts
    }
}
