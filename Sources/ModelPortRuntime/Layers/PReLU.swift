/// Parametric ReLU: `x` for `x >= 0`, else `alpha * x`, with a learned
/// `alpha` per position; `sharedAxes` (1-based sample axes, as Keras writes
/// them) share one alpha along those axes (alpha has size 1 there).
public final class PReLU: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "PReLU" }
    public let alpha: Parameter
    public let sharedAxes: [Int]

    /// - Parameter inputShape: one sample's shape; alpha's shape is that with
    ///   the shared axes set to 1.
    public init(name: String, inputShape: [Int], sharedAxes: [Int] = []) {
        self.name = name
        self.sharedAxes = sharedAxes
        var shape = inputShape
        for axis in sharedAxes where axis >= 1 && axis <= shape.count { shape[axis - 1] = 1 }
        alpha = Parameter(name: "alpha", value: Tensor(zeros: shape))
    }

    public var parameters: [Parameter] { [alpha] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let a = alpha.shape
        guard a.count == inputShape.count, zip(a, inputShape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw RuntimeError("alpha of shape \(a) does not broadcast to input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        let shape = input.sampleShape, a = alpha.shape
        let rank = shape.count
        // Row-major strides of alpha, zero along broadcast axes.
        var strides = [Int](repeating: 0, count: rank)
        var s = 1
        for k in stride(from: rank - 1, through: 0, by: -1) {
            strides[k] = a[k] == 1 ? 0 : s
            s *= a[k]
        }
        let per = input.sampleCount
        var output = input
        var index = [Int](repeating: 0, count: rank)
        var alphaIndex = [Int](repeating: 0, count: per)
        for o in 0..<per {
            var j = 0
            for k in 0..<rank { j += index[k] * strides[k] }
            alphaIndex[o] = j
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        for i in 0..<output.count {
            let x = output.scalars[i]
            if x < 0 { output.scalars[i] = alpha.value.scalars[alphaIndex[i % per]] * x }
        }
        return output
    }
}

// MARK: - Training

extension PReLU: TrainableLayer {
    /// The input: its sign picks the slope, and negative inputs are alpha's gradient.
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// For each position of a sample, the index of its alpha (broadcast
    /// along the shared axes), as `forward` computes it.
    func alphaIndices(sampleShape shape: [Int]) -> [Int] {
        let a = alpha.shape, rank = shape.count
        var strides = [Int](repeating: 0, count: rank)
        var s = 1
        for k in stride(from: rank - 1, through: 0, by: -1) {
            strides[k] = a[k] == 1 ? 0 : s
            s *= a[k]
        }
        let per = shape.reduce(1, *)
        var index = [Int](repeating: 0, count: rank)
        var result = [Int](repeating: 0, count: per)
        for o in 0..<per {
            var j = 0
            for k in 0..<rank { j += index[k] * strides[k] }
            result[o] = j
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return result
    }

    /// dx = dy for x >= 0, alpha·dy below; dalpha += Σ dy·x over the
    /// negative inputs sharing that alpha (batch and shared axes).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        precondition(outputGradient.shape == x.shape, "\(name): gradient shape \(outputGradient.shape)")
        let indices = alphaIndices(sampleShape: x.sampleShape)
        let per = x.sampleCount
        var dx = outputGradient
        let a = alpha.value.scalars
        gradients.accumulate(alpha) { da in
            for i in 0..<x.count where x.scalars[i] < 0 { da[indices[i % per]] += outputGradient.scalars[i] * x.scalars[i] }
        }
        for i in 0..<x.count where x.scalars[i] < 0 { dx.scalars[i] *= a[indices[i % per]] }
        return dx
    }
}
