import Foundation

/// Keras's `ELU` layer: `x` for `x > 0`, else `alpha * (exp(x) - 1)`.
public final class ELU: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "ELU" }
    public let alpha: Float

    public init(name: String, alpha: Float = 1) {
        self.name = name
        self.alpha = alpha
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        for i in 0..<output.count {
            let x = output.scalars[i]
            output.scalars[i] = x > 0 ? x : alpha * Foundation.expm1(x)
        }
        return output
    }
}

// MARK: - Training

extension ELU: TrainableLayer {
    /// The input and output: the slope is 1 for x > 0, else `alpha * exp(x) = y + alpha`.
    public struct Cache: LayerCache {
        public let input: Tensor
        public let output: Tensor
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let output = forward(input)
        return (output, Cache(input: input, output: output))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        precondition(outputGradient.shape == cache.input.shape, "\(name): gradient shape \(outputGradient.shape)")
        var dx = outputGradient
        for i in 0..<dx.count where cache.input.scalars[i] <= 0 { dx.scalars[i] *= cache.output.scalars[i] + alpha }
        return dx
    }
}
