/// Permutes the axes of each sample, like Keras's `Permute(dims)`, where
/// `dims` are 1-based sample axes (`(2, 1)` swaps the two axes of a matrix).
public final class Permute: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Permute" }
    /// 1-based, as Keras writes them.
    public let dims: [Int]

    public init(name: String, dims: [Int]) {
        self.name = name
        self.dims = dims
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard dims.count == inputShape.count, Set(dims) == Set(1...max(1, inputShape.count)) else {
            throw RuntimeError("dims \(dims) are not a permutation of the axes 1...\(inputShape.count) of input \(inputShape)")
        }
        return outputShape(validated: inputShape)
    }

    /// The output shape for a sample shape `outputShape(for:)` accepted
    /// (forward passes). No checks.
    func outputShape(validated inputShape: [Int]) -> [Int] { dims.map { inputShape[$0 - 1] } }

    public func forward(_ input: Tensor) -> Tensor {
        let inShape = input.sampleShape
        let outShape = outputShape(validated: inShape)
        let rank = inShape.count
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * inShape[i + 1] }
        // Stride in the input for each output axis.
        let strides = dims.map { inStrides[$0 - 1] }
        let per = input.sampleCount
        var output = Tensor(zeros: [input.batchCount] + outShape)
        var index = [Int](repeating: 0, count: rank)
        for b in 0..<input.batchCount {
            let base = b * per
            index = index.map { _ in 0 }
            for o in 0..<per {
                var src = base
                for k in 0..<rank { src += index[k] * strides[k] }
                output.scalars[base + o] = input.scalars[src]
                // Advance the output multi-index (row-major).
                var k = rank - 1
                while k >= 0 {
                    index[k] += 1
                    if index[k] < outShape[k] { break }
                    index[k] = 0
                    k -= 1
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension Permute: TrainableLayer {
    /// Only the input shape: the gradient is permuted back by the inverse permutation.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        // Output axis k came from input axis dims[k] - 1, so input axis
        // dims[k] - 1 comes back from gradient axis k.
        var inverse = [Int](repeating: 0, count: dims.count)
        for (k, d) in dims.enumerated() { inverse[d - 1] = k + 1 }
        let back = Permute(name: name, dims: inverse).forward(outputGradient)
        precondition(back.shape == shape, "\(name): gradient shape \(outputGradient.shape)")
        return back
    }
}
