import Foundation

/// Scales each vector along the last axis to unit L2 norm:
/// `y = x * min(1 / sqrt(sum(x²)), maxInverseNorm)` (Keras `UnitNormalization`;
/// Keras 3 caps the inverse norm at 1e12, tf-keras's `l2_normalize` at 1e6).
public final class UnitNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "UnitNormalization" }
    public let maxInverseNorm: Float

    public init(name: String, maxInverseNorm: Float = 1e12) {
        self.name = name
        self.maxInverseNorm = maxInverseNorm
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw RuntimeError("expects an input with a non-empty last axis, got \(inputShape)") }
        return inputShape
    }

    /// Each row's inverse norm, capped.
    func inverseNorms(_ x: Tensor) -> [Float] {
        let f = x.shape.last ?? 1
        return (0..<(x.count / max(f, 1))).map { r in
            var sum: Float = 0
            for j in 0..<f { sum += x.scalars[r * f + j] * x.scalars[r * f + j] }
            return min(1 / sum.squareRoot(), maxInverseNorm)
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let f = input.shape.last ?? 1
        var output = input
        for (r, inverse) in inverseNorms(input).enumerated() {
            for j in 0..<f { output.scalars[r * f + j] *= inverse }
        }
        return output
    }
}

// MARK: - Training

extension UnitNormalization: TrainableLayer {
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// With k = 1/|x| (uncapped): dx = k (dy - y (y · dy)); where the cap
    /// applies, k is a constant and dx = k dy.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        let f = x.shape.last ?? 1
        var dx = outputGradient
        for (r, k) in inverseNorms(x).enumerated() {
            let base = r * f
            let capped = k == maxInverseNorm
            var dot: Float = 0
            if !capped { for j in 0..<f { dot += x.scalars[base + j] * k * outputGradient.scalars[base + j] } }
            for j in 0..<f {
                let y = x.scalars[base + j] * k
                dx.scalars[base + j] = k * (outputGradient.scalars[base + j] - (capped ? 0 : y * dot))
            }
        }
        return dx
    }
}
