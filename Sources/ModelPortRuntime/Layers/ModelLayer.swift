/// A whole model used as a layer of another (a nested Keras `Sequential` or
/// functional model). Its weights are the inner model's layers' weights.
public final class ModelLayer: Layer, @unchecked Sendable {
    public let model: any Model
    public var name: String { model.name }
    public let typeName: String
    /// The nested model as a training graph, built once; nil when it cannot
    /// be trained (the outer `TrainingGraph` then reports why).
    let trainingGraph: TrainingGraph?
    /// Called in inference mode even while the outer model trains (Keras's
    /// `base(x, training=False)` in the fine-tuning guide): its BatchNormalization
    /// layers use their moving statistics and do not update them, its dropout is
    /// off; its trainable weights still learn.
    public var callsInInferenceMode = false

    /// - Parameter typeName: the Keras class, "Sequential" or "Functional".
    public init(model: any Model, typeName: String) {
        precondition(model.inputShapes.count == 1 && model.outputShapes.count == 1,
                     "a nested model used as a layer must have one input and one output")
        self.model = model
        self.typeName = typeName
        trainingGraph = try? TrainingGraph(model)
    }

    public var parameters: [Parameter] { model.layers.flatMap(\.parameters) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == model.inputShape else {
            throw RuntimeError("nested model '\(model.name)' expects \(model.inputShape), got \(inputShape)")
        }
        return model.outputShape
    }

    public func forward(_ input: Tensor) -> Tensor { model.forward(input) }
}

// MARK: - Training

extension ModelLayer: TrainableLayer {
    /// The inner model's training graph and its forward trace.
    public struct Cache: LayerCache {
        let graph: TrainingGraph
        let trace: TrainingGraph.Trace
    }

    public var needsWholeBatch: Bool { trainingGraph?.needsWholeBatch ?? false }

    /// - Precondition: the nested model can be trained (`TrainingGraph`
    ///   refuses to build an outer graph around one that cannot).
    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        guard let graph = trainingGraph else {
            preconditionFailure("nested model '\(name)' cannot be trained; TrainingGraph rejects a graph holding it")
        }
        var inner = context
        if callsInInferenceMode { inner.training = false }
        let trace = graph.forward([input], context: inner)
        return (trace.outputs[0], Cache(graph: graph, trace: trace))
    }

    /// Backward through the inner graph: its parameters' gradients are
    /// added into `gradients` (they are the outer model's too).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        return cache.graph.backward(cache.trace, outputGradients: [.output(outputGradient)], gradients: gradients)[0]
    }
}
