/// A model seen as a graph of trainable layers: one training forward pass
/// with per-node caches, and the backward pass that walks it in reverse.
///
/// Works for `Sequential` (a chain) and `Functional` (branches, merges,
/// shared layers: a value used by several nodes gets the sum of their
/// gradients; a shared layer's parameters get every use's contribution).
public final class TrainingGraph: @unchecked Sendable {
    struct Node {
        let layer: any TrainableLayer
        /// Value indices: `0..<inputCount` are the model inputs, then one
        /// value per node, in node order.
        let inputs: [Int]
    }

    public let model: any Model
    let nodes: [Node]
    let inputCount: Int
    /// Value index of each model output.
    let outputs: [Int]
    /// Every distinct trainable parameter, in layer order.
    public let trainableParameters: [Parameter]
    /// Some layer needs the whole batch in one pass (batch statistics).
    public let needsWholeBatch: Bool

    /// - Throws: `RuntimeError` naming the first layer that cannot be trained.
    public init(_ model: any Model) throws {
        self.model = model
        var nodes: [Node] = []
        if let sequential = model as? Sequential {
            inputCount = 1
            for (i, layer) in sequential.layers.enumerated() {
                nodes.append(Node(layer: try Self.trainable(layer), inputs: [i]))
            }
            outputs = [nodes.count]
        } else if let functional = model as? Functional {
            inputCount = functional.inputNodes.count
            // Functional node index -> value index.
            var valueOf: [Int: Int] = [:]
            for (k, index) in functional.inputNodes.enumerated() { valueOf[index] = k }
            for (i, node) in functional.nodes.enumerated() where valueOf[i] == nil {
                nodes.append(Node(layer: try Self.trainable(node.layer), inputs: node.inputs.map { valueOf[$0]! }))
                valueOf[i] = inputCount + nodes.count - 1
            }
            outputs = functional.outputNodes.map { valueOf[$0]! }
        } else {
            throw RuntimeError("model '\(model.name)' (\(type(of: model))) cannot be trained: only Sequential and Functional models can")
        }
        self.nodes = nodes
        var seen = Set<ObjectIdentifier>()
        trainableParameters = model.layers.flatMap(\.parameters).filter { $0.isUpdated && seen.insert(ObjectIdentifier($0)).inserted }
        needsWholeBatch = nodes.contains { $0.layer.needsWholeBatch }
    }

    private static func trainable(_ layer: any Layer) throws -> any TrainableLayer {
        guard let t = layer as? any TrainableLayer else {
            throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)) has no backward pass: ModelPort cannot train through it yet")
        }
        if let a = t as? any ActivatedLayer, !a.activation.isDifferentiable {
            throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)): activation '\(a.activation.rawValue)' has no derivative in ModelPort yet")
        }
        if let identity = t as? InferenceIdentity, let refusal = identity.trainingRefusal {
            throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)) cannot be trained through: \(refusal)")
        }
        if let nested = t as? ModelLayer {
            do { _ = try TrainingGraph(nested.model) } catch let error as RuntimeError {
                throw RuntimeError("nested model '\(layer.name)': \(error.message)")
            }
        }
        return t
    }

    /// Everything one forward pass computed: each node's output and cache.
    public struct Trace {
        var caches: [any LayerCache]
        /// The model outputs, in output order.
        public let outputs: [Tensor]
    }

    /// Runs every node in training (or, with `context.training == false`,
    /// inference) mode, keeping the caches backward needs.
    public func forward(_ inputs: [Tensor], context: TrainingContext) -> Trace {
        precondition(inputs.count == inputCount, "model '\(model.name)' takes \(inputCount) inputs")
        var values = inputs
        var caches: [any LayerCache] = []
        values.reserveCapacity(inputCount + nodes.count)
        caches.reserveCapacity(nodes.count)
        for node in nodes {
            let result: (output: Tensor, cache: any LayerCache)
            if let merge = node.layer as? any TrainableMergeLayer {
                result = merge.forward(inputs: node.inputs.map { values[$0] }, context: context)
            } else {
                result = node.layer.forward(values[node.inputs[0]], context: context)
            }
            values.append(result.output)
            caches.append(result.cache)
        }
        // Intermediate values live on only through the caches.
        return Trace(caches: caches, outputs: outputs.map { values[$0] })
    }

    /// The pre-activation (logits) behind output `k` when the layer that
    /// produced it ends in `activation` (softmax or sigmoid), else nil.
    public func logits(of trace: Trace, output k: Int, ifActivation activations: Set<Activation>) -> Tensor? {
        let v = outputs[k]
        guard v >= inputCount, let layer = nodes[v - inputCount].layer as? any ActivatedLayer,
              activations.contains(layer.activation) else { return nil }
        return layer.preActivation(cache: trace.caches[v - inputCount])
    }

    /// The gradient of the loss with respect to one model output.
    public enum OutputGradient {
        /// dLoss/dOutput.
        case output(Tensor)
        /// dLoss/dLogits, for an output from `logits(of:output:ifActivation:)`.
        case logits(Tensor)
    }

    /// Backward through every node, adding parameter gradients into `gradients`.
    /// - Parameter inputGradients: whether dLoss/dInput is wanted (a model
    ///   nested in another); when false, layers fed only by model inputs skip
    ///   computing their input gradient and zeros are returned.
    /// - Returns: dLoss/dInput for each model input (zeros when an input does
    ///   not reach the loss or was not asked for).
    @discardableResult
    public func backward(_ trace: Trace, outputGradients: [OutputGradient], gradients: Gradients,
                         inputGradients wantInputGradients: Bool = true) -> [Tensor] {
        precondition(outputGradients.count == outputs.count)
        var pending = [Tensor?](repeating: nil, count: inputCount + nodes.count)
        var logitsGradient = [Int: Tensor]()
        func add(_ g: Tensor, to v: Int) {
            if var existing = pending[v] {
                precondition(existing.shape == g.shape)
                for i in 0..<existing.count { existing.scalars[i] += g.scalars[i] }
                pending[v] = existing
            } else {
                pending[v] = g
            }
        }
        for (k, g) in outputGradients.enumerated() {
            switch g {
            case .output(let t): add(t, to: outputs[k])
            case .logits(let t): logitsGradient[outputs[k]] = t
            }
        }
        // afterParameters[v]: a parameter being trained lies on the path from
        // the model inputs to value v. A node none of whose inputs has one
        // needs no input gradient (nobody would use it) when the caller does
        // not want input gradients either.
        var afterParameters = [Bool](repeating: false, count: inputCount + nodes.count)
        for (i, node) in nodes.enumerated() {
            afterParameters[inputCount + i] = node.inputs.contains { afterParameters[$0] }
                || node.layer.parameters.contains(where: gradients.contains)
        }
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            let v = inputCount + i
            let node = nodes[i]
            let inputGradients: [Tensor]
            if !wantInputGradients, !node.inputs.contains(where: { afterParameters[$0] }),
               logitsGradient[v] != nil || pending[v] != nil {
                if let layer = node.layer as? any ActivatedLayer {
                    let dz = logitsGradient[v] ?? layer.preActivationGradient(pending[v]!, cache: trace.caches[i])
                    if logitsGradient[v] == nil || pending[v] == nil {
                        layer.accumulateParameterGradients(preActivationGradient: dz, cache: trace.caches[i], gradients: gradients)
                        pending[v] = nil
                        continue
                    }
                } else if !afterParameters[v] {
                    pending[v] = nil  // no parameters here or before: nothing to compute
                    continue
                }
            }
            if let dz = logitsGradient[v] {
                var total = dz
                if let dy = pending[v] {
                    let layer = node.layer as! any ActivatedLayer
                    let extra = layer.activation.backward(dy, output: trace.outputs[outputs.firstIndex(of: v)!],
                                                          input: layer.preActivation(cache: trace.caches[i]))
                    for j in 0..<total.count { total.scalars[j] += extra.scalars[j] }
                }
                inputGradients = [(node.layer as! any ActivatedLayer).backward(preActivationGradient: total, cache: trace.caches[i], gradients: gradients)]
            } else if let dy = pending[v] {
                if let merge = node.layer as? any TrainableMergeLayer {
                    inputGradients = merge.backward(inputsGradient: dy, cache: trace.caches[i], gradients: gradients)
                } else {
                    inputGradients = [node.layer.backward(dy, cache: trace.caches[i], gradients: gradients)]
                }
            } else {
                continue  // this node does not reach the loss
            }
            pending[v] = nil
            for (input, g) in zip(node.inputs, inputGradients) {
                add(g, to: input)
            }
        }
        return (0..<inputCount).map { k in
            pending[k] ?? Tensor(zeros: [trace.outputs[0].batchCount] + model.inputShapes[k])
        }
    }
}
