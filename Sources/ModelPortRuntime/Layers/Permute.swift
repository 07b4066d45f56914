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
        let per = input.sampleCount
        var output = Tensor(zeros: [input.batchCount] + outputShape(validated: inShape))
        let perm = dims.map { $0 - 1 }
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                for b in 0..<input.batchCount {
                    permuteAxes(UnsafeBufferPointer(rebasing: x[(b * per)..<((b + 1) * per)]), shape: inShape, perm: perm,
                                into: UnsafeMutableBufferPointer(rebasing: y[(b * per)..<((b + 1) * per)]))
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
