/// A directed acyclic graph of layers, like a Keras functional `Model`:
/// branches, merges, shared layers, several inputs and outputs.
///
/// Each node applies one layer to the outputs of earlier nodes. Input nodes
/// hold `InputLayer`s. A layer used by several nodes (a shared layer) is one
/// object with one set of weights.
public final class Functional: Model, @unchecked Sendable {
    public struct Node: Sendable {
        public let layer: any Layer
        /// Indices of the nodes whose outputs feed this one, in order.
        public let inputs: [Int]
        public init(layer: any Layer, inputs: [Int]) {
            self.layer = layer
            self.inputs = inputs
        }
    }

    public let name: String
    /// Topologically ordered: every node's inputs come before it.
    public let nodes: [Node]
    public let inputNodes: [Int]
    public let outputNodes: [Int]
    /// Output sample shape of each node, parallel to `nodes`.
    public let nodeOutputShapes: [[Int]]
    public let layers: [any Layer]
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]
    /// The index of each node's last consumer (`Int.max` for outputs and unused nodes).
    private let lastUse: [Int]
    /// BatchNormalizations folded into their convolutions for prediction.
    private let fusion: InferenceFusion
    public var inputNames: [String] { inputNodes.map { nodes[$0].layer.name } }
    public var outputNames: [String] { uniqueOutputNames(outputNodes.map { nodes[$0].layer.name }) }

    /// - Throws: `RuntimeError` when the graph is not topologically ordered,
    ///   an input node is not an `InputLayer`, a node with several inputs is
    ///   not a `MergeLayer`, or shapes do not fit.
    public init(name: String, nodes: [Node], inputNodes: [Int], outputNodes: [Int]) throws {
        self.name = name
        self.nodes = nodes
        self.inputNodes = inputNodes
        self.outputNodes = outputNodes
        guard !inputNodes.isEmpty, !outputNodes.isEmpty else {
            throw RuntimeError("model '\(name)' needs at least one input and one output")
        }
        var shapes: [[Int]] = []
        for (i, node) in nodes.enumerated() {
            let layer = node.layer
            if inputNodes.contains(i) {
                guard let input = layer as? InputLayer, node.inputs.isEmpty else {
                    throw RuntimeError("model '\(name)': input node \(i) ('\(layer.name)') must be an InputLayer with no inbound nodes")
                }
                shapes.append(input.sampleShape)
                continue
            }
            guard !node.inputs.isEmpty, node.inputs.allSatisfy({ $0 >= 0 && $0 < i }) else {
                throw RuntimeError("model '\(name)': node \(i) ('\(layer.name)') has inputs \(node.inputs) that do not come before it")
            }
            let inputShapes = node.inputs.map { shapes[$0] }
            do {
                if let merge = layer as? any MergeLayer {
                    shapes.append(try merge.outputShape(forInputs: inputShapes))
                } else {
                    guard inputShapes.count == 1 else {
                        throw RuntimeError("takes one input, but the graph gives it \(inputShapes.count)")
                    }
                    shapes.append(try layer.outputShape(for: inputShapes[0]))
                }
            } catch let e as RuntimeError {
                throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)): \(e.message)")
            }
        }
        if let i = shapes.indices.first(where: { (try? MemoryEstimate.elements(shapes[$0])) == nil }) {
            throw RuntimeError("model '\(name)': node \(i) ('\(nodes[i].layer.name)') has shape \(shapes[i]), more elements than can be addressed")
        }
        guard outputNodes.allSatisfy({ $0 >= 0 && $0 < nodes.count }) else {
            throw RuntimeError("model '\(name)': output nodes \(outputNodes) are not in the graph")
        }
        nodeOutputShapes = shapes
        inputShapes = inputNodes.map { shapes[$0] }
        outputShapes = outputNodes.map { shapes[$0] }
        var seen = Set<ObjectIdentifier>()
        layers = nodes.compactMap { seen.insert(ObjectIdentifier($0.layer)).inserted ? $0.layer : nil }
        var last = [Int](repeating: Int.max, count: nodes.count)
        for (i, node) in nodes.enumerated() { for j in node.inputs { last[j] = last[j] == Int.max ? i : max(last[j], i) } }
        for j in outputNodes { last[j] = Int.max }
        lastUse = last
        fusion = InferenceFusion(nodes: nodes, outputNodes: outputNodes)
    }

    /// Every node's output, in node order.
    /// Every node's output; with `keepAll` false, each is released after its
    /// last consumer has run (only the outputs are left), so a deep network's
    /// peak memory is the activations alive at once, not all of them.
    func evaluate(_ inputs: [Tensor], keepAll: Bool = true) -> [Tensor?] {
        precondition(inputs.count == inputNodes.count, "model '\(name)' takes \(inputNodes.count) inputs")
        // Every Keras layer's own output when all are kept; else BatchNormalizations folded (InferenceFusion).
        let nodes = keepAll ? self.nodes : fusion.nodes(for: self.nodes)
        var values = [Tensor?](repeating: nil, count: nodes.count)
        for (k, index) in inputNodes.enumerated() { values[index] = inputs[k] }
        for (i, node) in nodes.enumerated() where values[i] == nil {
            let args = node.inputs.map { values[$0]! }
            if !keepAll { for j in node.inputs where lastUse[j] == i { values[j] = nil } }
            if let merge = node.layer as? any MergeLayer {
                values[i] = merge.forward(inputs: args)
            } else {
                values[i] = node.layer.forward(args[0])
            }
        }
        return values
    }

    /// The layers prediction folds into the convolution before them (`InferenceFusion`).
    var foldedLayerNames: [String] { fusion.absorbedNodes.map { nodes[$0].layer.name } }

    public func forward(inputs: [Tensor]) -> [Tensor] {
        let values = evaluate(inputs, keepAll: false)
        return outputNodes.map { values[$0]! }
    }

    public func layerOutputs(inputs: [Tensor]) -> [(layer: String, output: Tensor)] {
        let values = evaluate(inputs)
        var seen = Set<ObjectIdentifier>()
        return nodes.indices.compactMap { i in
            seen.insert(ObjectIdentifier(nodes[i].layer)).inserted ? (nodes[i].layer.name, values[i]!) : nil
        }
    }

    public var summary: [LayerSummary] {
        var seen = Set<ObjectIdentifier>()
        return nodes.indices.compactMap { i in
            let node = nodes[i]
            guard seen.insert(ObjectIdentifier(node.layer)).inserted else { return nil }
            return LayerSummary(name: node.layer.name, typeName: node.layer.typeName, outputShape: nodeOutputShapes[i],
                                parameterCount: node.layer.parameterCount,
                                inbound: node.inputs.map { nodes[$0].layer.name })
        }
    }
}
