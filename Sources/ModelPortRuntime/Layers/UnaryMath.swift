import Foundation

/// An element-wise math function users write in a functional graph
/// (`keras.ops.sqrt(x)`, `tf.math.square(x)`, `-x`, ...) that is not a Keras
/// activation. Any shape; the output has the input's shape.
public final class UnaryMath: Layer, @unchecked Sendable {
    public enum Function: String, Sendable, CaseIterable {
        case sqrt, square, absolute, negative, log, reciprocal
    }

    public let name: String
    public let function: Function
    /// Named after the `keras.ops` function, which is what users write.
    public var typeName: String { "ops." + function.rawValue }

    public init(name: String, function: Function) {
        self.name = name
        self.function = function
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        switch function {
        case .sqrt: for i in 0..<output.count { output.scalars[i] = output.scalars[i].squareRoot() }
        case .square: for i in 0..<output.count { output.scalars[i] *= output.scalars[i] }
        case .absolute: for i in 0..<output.count { output.scalars[i] = Swift.abs(output.scalars[i]) }
        case .negative: for i in 0..<output.count { output.scalars[i] = -output.scalars[i] }
        case .log: for i in 0..<output.count { output.scalars[i] = Foundation.log(output.scalars[i]) }
        case .reciprocal: for i in 0..<output.count { output.scalars[i] = 1 / output.scalars[i] }
        }
        return output
    }
}

// MARK: - Training

extension UnaryMath: TrainableLayer {
    /// The input (every derivative here but negation's is written in it).
    public struct Cache: LayerCache {
        public let input: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: function == .negative ? nil : input))
    }

    /// sqrt: dy / (2·sqrt x); square: 2x·dy; abs: sign(x)·dy (0 at 0, as
    /// TensorFlow); negative: -dy; log: dy / x; reciprocal: -dy / x².
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        var dx = outputGradient
        guard let x = (cache as! Cache).input else {
            for i in 0..<dx.count { dx.scalars[i] = -dx.scalars[i] }
            return dx
        }
        for i in 0..<dx.count {
            let v = x.scalars[i], dy = outputGradient.scalars[i]
            switch function {
            case .sqrt: dx.scalars[i] = dy / (2 * v.squareRoot())
            case .square: dx.scalars[i] = 2 * v * dy
            case .absolute: dx.scalars[i] = v > 0 ? dy : (v < 0 ? -dy : 0)
            case .negative: dx.scalars[i] = -dy
            case .log: dx.scalars[i] = dy / v
            case .reciprocal: dx.scalars[i] = -dy / (v * v)
            }
        }
        return dx
    }
}
