/// Feature-wise standardisation with stored statistics (Keras
/// `Normalization` after `adapt`), over the last axis:
/// `y = (x - mean) / max(sqrt(variance), epsilon)` with Keras's epsilon 1e-7.
/// Weights: mean, variance, count (non-trainable) — or none, when the
/// statistics are fixed constants (Keras's `Normalization(mean=..., variance=...)`,
/// as EfficientNetV2, ResNetRS and ConvNeXt use).
public final class Normalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Normalization" }
    public let mean: Parameter
    public let variance: Parameter
    public let count: Parameter
    /// Keras's `backend.epsilon()`.
    public let epsilon: Float = 1e-7

    /// Whether mean and variance are constants of the layer rather than weights.
    public let fixedStatistics: Bool

    /// Statistics held as weights (adapted), initially mean 0 and variance 1.
    public init(name: String, features: Int) {
        precondition(features > 0)
        self.name = name
        mean = Parameter(name: "mean", value: Tensor(zeros: [features]), trainable: false)
        variance = Parameter(name: "variance", value: Tensor(shape: [features], scalars: .init(repeating: 1, count: features)), trainable: false)
        count = Parameter(name: "count", value: Tensor(zeros: []), trainable: false)
        fixedStatistics = false
    }

    /// Fixed statistics, one per feature (or one for all).
    /// - Precondition: `mean` and `variance` have equal, non-zero counts.
    public init(name: String, mean: [Float], variance: [Float]) {
        precondition(!mean.isEmpty && mean.count == variance.count)
        self.name = name
        self.mean = Parameter(name: "mean", value: Tensor(shape: [mean.count], scalars: mean), trainable: false)
        self.variance = Parameter(name: "variance", value: Tensor(shape: [variance.count], scalars: variance), trainable: false)
        count = Parameter(name: "count", value: Tensor(zeros: []), trainable: false)
        fixedStatistics = true
    }

    public var features: Int { mean.shape[0] }
    public var parameters: [Parameter] { fixedStatistics ? [] : [mean, variance, count] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == features || features == 1 else {
            throw RuntimeError("normalizes \(features) features on the last axis, got input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let f = features
        let denominators = variance.value.scalars.map { max($0.squareRoot(), epsilon) }
        for i in 0..<output.count {
            let k = f == 1 ? 0 : i % f
            output.scalars[i] = (output.scalars[i] - mean.value.scalars[k]) / denominators[k]
        }
        return output
    }
}

// MARK: - Training

extension Normalization: TrainableLayer {
    /// Nothing: the statistics are constants (not trained), so
    /// dx = dy / max(sqrt(variance), epsilon) per feature.
    public struct Cache: LayerCache {}

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache())
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let f = features
        let denominators = variance.value.scalars.map { max($0.squareRoot(), epsilon) }
        var dx = outputGradient
        for i in 0..<dx.count { dx.scalars[i] /= denominators[f == 1 ? 0 : i % f] }
        return dx
    }
}
