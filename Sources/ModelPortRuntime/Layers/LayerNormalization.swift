import Foundation

/// Layer normalization over the last axis of each sample (Keras's default
/// `axis=-1`): `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`.
/// Weights: gamma (if `scale`), beta (if `center`).
public final class LayerNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "LayerNormalization" }
    public let epsilon: Float
    public let gamma: Parameter?
    public let beta: Parameter?
    public let features: Int

    public init(name: String, features: Int, epsilon: Float = 1e-3, scale: Bool = true, center: Bool = true) {
        precondition(features > 0)
        self.name = name
        self.epsilon = epsilon
        self.features = features
        gamma = scale ? Parameter(name: "gamma", value: Tensor(shape: [features], scalars: .init(repeating: 1, count: features))) : nil
        beta = center ? Parameter(name: "beta", value: Tensor(zeros: [features])) : nil
    }

    public var parameters: [Parameter] { [gamma, beta].compactMap { $0 } }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == features else {
            throw RuntimeError("normalizes \(features) features on the last axis, got input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let f = features
        output.scalars.withUnsafeMutableBufferPointer { y in
            var start = 0
            while start < y.count {
                // Mean and (biased) variance in double, then the affine map in float.
                var mean = 0.0
                for k in 0..<f { mean += Double(y[start + k]) }
                mean /= Double(f)
                var variance = 0.0
                for k in 0..<f { let d = Double(y[start + k]) - mean; variance += d * d }
                variance /= Double(f)
                let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                let m = Float(mean)
                for k in 0..<f {
                    var v = (y[start + k] - m) * inv
                    if let gamma { v *= gamma.value.scalars[k] }
                    if let beta { v += beta.value.scalars[k] }
                    y[start + k] = v
                }
                start += f
            }
        }
        return output
    }
}
