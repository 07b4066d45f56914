import Foundation

/// Layers that only act while training and are the identity at inference:
/// `SpatialDropout2D`, `GaussianNoise`, `GaussianDropout`,
/// `ActivityRegularization`, `AlphaDropout`, ConvNeXt's `StochasticDepth`. The kind is kept so summaries,
/// exports and training say what the layer was.
public final class InferenceIdentity: Layer, @unchecked Sendable {
    /// The Keras layer this is (raw value: its class name).
    public enum Kind: String, CaseIterable, Sendable {
        case spatialDropout2D = "SpatialDropout2D", gaussianNoise = "GaussianNoise", gaussianDropout = "GaussianDropout"
        case alphaDropout = "AlphaDropout", activityRegularization = "ActivityRegularization"
        case stochasticDepth = "StochasticDepth"
    }

    public let name: String
    public let kind: Kind
    public var typeName: String { kind.rawValue }
    /// The layer's rate or standard deviation (for export and training).
    public let rate: Float

    public init(name: String, kind: Kind, rate: Float = 0) {
        self.name = name
        self.kind = kind
        self.rate = rate
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func forward(_ input: Tensor) -> Tensor { input }
}

// MARK: - Training

extension InferenceIdentity: TrainableLayer {
    /// The per-element factor the forward multiplied by (SpatialDropout2D,
    /// GaussianDropout, AlphaDropout); empty when the pass was the identity
    /// or only added noise (GaussianNoise), whose gradient is the identity.
    public struct Cache: LayerCache { public let factor: [Float] }

    /// Why training through this layer would be wrong, or nil.
    /// `ActivityRegularization`'s l1/l2 penalty belongs in the loss, and the
    /// layer keeps neither factor, so it is refused rather than ignored.
    public var trainingRefusal: String? {
        switch kind {
        case .spatialDropout2D, .gaussianNoise, .gaussianDropout, .alphaDropout, .stochasticDepth: return nil
        case .activityRegularization:
            return "its l1/l2 activity penalty would have to be added to the loss, which ModelPort's trainer does not do; remove the layer to train"
        }
    }

    /// Training-time behaviour as Keras 3's layers (the identity at inference):
    /// - SpatialDropout2D: whole channels of each sample dropped with
    ///   probability `rate`, the rest scaled by 1/(1 - rate);
    /// - GaussianNoise: adds N(0, stddev²) noise (`rate` holds stddev);
    /// - GaussianDropout: multiplies by N(1, rate/(1 - rate)) noise;
    /// - StochasticDepth: each sample's whole input (a residual branch)
    ///   dropped with probability `rate`, kept ones scaled by 1/(1 - rate);
    /// - AlphaDropout: dropped elements set to -alpha·scale of SELU, then
    ///   the affine correction `a·x + b` that keeps mean and variance.
    /// Draws are keyed by (seed, step, layer, sample), as Dropout's.
    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        guard context.training, rate > 0, trainingRefusal == nil else { return (input, Cache(factor: [])) }
        let per = input.sampleCount
        var output = input
        var factor = [Float](repeating: 0, count: kind == .gaussianNoise ? 0 : input.count)
        for b in 0..<input.batchCount {
            let key = context.randomKey(layer: name, sample: b)
            let base = b * per
            switch kind {
            case .spatialDropout2D:
                let c = input.shape.last!
                let scale = 1 / (1 - rate)
                for ch in 0..<c where SplitMix64.uniform(key: key, index: ch) >= rate {
                    for p in stride(from: ch, to: per, by: c) { factor[base + p] = scale }
                }
                for j in 0..<per { output.scalars[base + j] *= factor[base + j] }
            case .gaussianNoise:
                for j in 0..<per { output.scalars[base + j] += rate * Self.normal(key: key, index: j) }
            case .gaussianDropout:
                let stddev = (rate / (1 - rate)).squareRoot()
                for j in 0..<per {
                    factor[base + j] = 1 + stddev * Self.normal(key: key, index: j)
                    output.scalars[base + j] *= factor[base + j]
                }
            case .stochasticDepth:
                let kept: Float = SplitMix64.uniform(key: key, index: 0) >= rate ? 1 / (1 - rate) : 0
                for j in 0..<per {
                    factor[base + j] = kept
                    output.scalars[base + j] *= kept
                }
            case .activityRegularization:
                break  // refused above (trainingRefusal)
            case .alphaDropout:
                let alphaP: Float = -1.6732632423543772 * 1.0507009873554805
                let a = 1 / ((1 - rate) * (1 + rate * alphaP * alphaP)).squareRoot()
                let shift = -a * alphaP * rate
                for j in 0..<per {
                    let kept = SplitMix64.uniform(key: key, index: j) >= rate
                    factor[base + j] = kept ? a : 0
                    output.scalars[base + j] = (kept ? output.scalars[base + j] : alphaP) * a + shift
                }
            }
        }
        return (output, Cache(factor: factor))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let factor = (cache as! Cache).factor
        guard !factor.isEmpty else { return outputGradient }
        precondition(factor.count == outputGradient.count, "\(name): gradient shape \(outputGradient.shape)")
        var dx = outputGradient
        for i in 0..<dx.count { dx.scalars[i] *= factor[i] }
        return dx
    }

    /// A standard normal draw (Box-Muller on two uniforms of the stream).
    @inline(__always)
    static func normal(key: UInt64, index: Int) -> Float {
        let u1 = max(SplitMix64.uniform(key: key, index: 2 * index), 0x1p-25)
        let u2 = SplitMix64.uniform(key: key, index: 2 * index + 1)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Float.pi * u2)
    }
}
