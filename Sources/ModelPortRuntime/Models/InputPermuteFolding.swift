/// Moving the permutation at a model's input into the input itself.
///
/// An NCHW ONNX graph imports as a model whose image input feeds one
/// `Permute` (channels to the end) and runs channels-last from there. Folded,
/// the model takes the channels-last samples directly — a plain Keras model
/// with an `(H, W, C)` input — and callers permute their data once instead.
public enum InputPermuteFolding {
    /// A model with its input permutations folded away.
    public struct Folded {
        public let model: any Model
        /// Per input, in order: the 1-based sample axes (as `Permute.dims`)
        /// a caller's samples must be permuted by to feed `model`, or nil
        /// where the input is unchanged.
        public let inputDims: [[Int]?]
    }

    /// `model` with every input that feeds a `Permute` alone (and is no
    /// output) taking that Permute's output shape instead, the Permute gone.
    /// Returns nil when no input does.
    /// - Throws: `RuntimeError` if the rewritten model does not build (it
    ///   always does for a model that built).
    public static func folded(_ model: any Model) throws -> Folded? {
        if let sequential = model as? Sequential {
            guard sequential.layers.count > 1, let permute = sequential.layers.first as? Permute else { return nil }
            let shape = try permute.outputShape(for: sequential.inputShapes[0])
            let rest = Array(sequential.layers.dropFirst())
            return Folded(model: try Sequential(name: sequential.name, inputShape: shape, layers: rest), inputDims: [permute.dims])
        }
        guard let functional = model as? Functional else { return nil }
        let nodes = functional.nodes
        var readers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() { for j in node.inputs { readers[j].append(i) } }
        // Input node -> the Permute node it alone feeds.
        var folds: [Int: Int] = [:]
        for i in functional.inputNodes where !functional.outputNodes.contains(i) {
            guard readers[i].count == 1, let j = readers[i].first, nodes[j].layer is Permute,
                  !functional.outputNodes.contains(j) else { continue }
            folds[i] = j
        }
        guard !folds.isEmpty else { return nil }
        let removed = Set(folds.values)
        // Readers of a removed Permute read the input instead.
        var replacement: [Int: Int] = [:]
        for (i, j) in folds { replacement[j] = i }
        var index: [Int: Int] = [:]
        var kept: [Functional.Node] = []
        var dims: [[Int]?] = []
        for (i, node) in nodes.enumerated() where !removed.contains(i) {
            index[i] = kept.count
            if let j = folds[i], let input = node.layer as? InputLayer, let permute = nodes[j].layer as? Permute {
                let shape = try permute.outputShape(for: input.sampleShape)
                kept.append(Functional.Node(layer: InputLayer(name: input.name, sampleShape: shape), inputs: []))
                continue
            }
            kept.append(Functional.Node(layer: node.layer, inputs: node.inputs.map { index[replacement[$0] ?? $0]! }))
        }
        for i in functional.inputNodes {
            dims.append(folds[i].flatMap { (nodes[$0].layer as? Permute)?.dims })
        }
        let rebuilt = try Functional(name: functional.name, nodes: kept, inputNodes: functional.inputNodes.map { index[$0]! },
                                     outputNodes: functional.outputNodes.map { index[$0]! })
        return Folded(model: rebuilt, inputDims: dims)
    }
}
