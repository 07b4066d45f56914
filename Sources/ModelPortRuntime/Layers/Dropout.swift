/// Dropout: the identity at inference. In training, each element is kept
/// with probability `1 - rate` and scaled by `1 / (1 - rate)`, zeroed
/// otherwise (Keras's inverted dropout), so inference needs no rescaling.
public final class Dropout: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Dropout" }
    public let rate: Float
    public init(name: String, rate: Float) {
        self.name = name
        self.rate = rate
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func forward(_ input: Tensor) -> Tensor { input }
}

// MARK: - Training

extension Dropout: TrainableLayer {
    /// The per-element factor applied in forward (0 or 1/(1-rate)); empty
    /// when the pass was the identity (inference, or rate 0).
    public struct Cache: LayerCache { public let mask: [Float] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        guard context.training, rate > 0 else { return (input, Cache(mask: [])) }
        let keep = 1 - rate
        let scale = 1 / keep
        let per = input.sampleCount
        var mask = [Float](repeating: 0, count: input.count)
        var output = input
        for b in 0..<input.batchCount {
            // Keyed by the sample's place in the whole batch: the mask does
            // not depend on how the batch was split over threads.
            let key = context.randomKey(layer: name, sample: b)
            for j in 0..<per where SplitMix64.uniform(key: key, index: j) < keep {
                mask[b * per + j] = scale
            }
        }
        for i in 0..<output.count { output.scalars[i] *= mask[i] }
        return (output, Cache(mask: mask))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let mask = (cache as! Cache).mask
        guard !mask.isEmpty else { return outputGradient }
        precondition(mask.count == outputGradient.count, "\(name): gradient shape \(outputGradient.shape)")
        var dx = outputGradient
        for i in 0..<dx.count { dx.scalars[i] *= mask[i] }
        return dx
    }
}
