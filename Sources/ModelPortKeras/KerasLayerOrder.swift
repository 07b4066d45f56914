import ModelPortRuntime

/// The order in which Keras lists a model's layers (`model.layers`), which is
/// the order its weight loaders match stored weights to layers in: a legacy
/// `.h5`'s `layer_names` by position, a `.keras` weights store by class-name
/// keys counted along it (`conv2d`, `conv2d_1`, ...).
///
/// A Sequential model lists its layers as they are. A functional model lists
/// them as `map_graph` (Keras 3 `keras/src/ops/function.py`; tf-keras's
/// `_map_graph_network` is the same) leaves them after it rebuilds the graph
/// from the config: deepest first (a layer's depth is the longest path from
/// it to an output, over every call of a shared layer), and within one depth
/// in the order a depth-first walk from the outputs (each node's inputs in
/// order) first meets them. A model read from Keras already lists its layers
/// so; one generated from another format (an ONNX graph's node order) need not.
enum KerasLayerOrder {
    static func layers(of model: any Model) -> [any Layer] {
        guard let f = model as? Functional else { return model.layers }
        let nodes = f.nodes
        var firstSeen: [ObjectIdentifier: Int] = [:]
        var finished = Set<Int>()
        var decreasingDepth: [Int] = []
        // Iterative form of Keras's recursive _build_map_helper: a node is finished after all its inputs.
        // (A Functional is acyclic and its input nodes have no inputs, so Keras's cycle and input checks never apply.)
        for output in f.outputNodes {
            var stack: [(node: Int, next: Int)] = []
            func enter(_ j: Int) {
                guard !finished.contains(j) else { return }
                let id = ObjectIdentifier(nodes[j].layer)
                if firstSeen[id] == nil { firstSeen[id] = firstSeen.count }
                stack.append((j, 0))
            }
            enter(output)
            while let top = stack.last {
                let inputs = nodes[top.node].inputs
                if top.next < inputs.count {
                    stack[stack.count - 1].next += 1
                    enter(inputs[top.next])
                    continue
                }
                stack.removeLast()
                if finished.insert(top.node).inserted { decreasingDepth.append(top.node) }
            }
        }
        var nodeDepth: [Int: Int] = [:]
        var layerDepth: [ObjectIdentifier: Int] = [:]
        var depthOrder: [ObjectIdentifier] = []
        let inGraph = Set(decreasingDepth)
        for j in decreasingDepth.reversed() {
            let id = ObjectIdentifier(nodes[j].layer)
            let depth = max(nodeDepth[j] ?? 0, layerDepth[id] ?? 0)
            if layerDepth[id] == nil { depthOrder.append(id) }
            layerDepth[id] = depth
            nodeDepth[j] = depth
            for parent in nodes[j].inputs where inGraph.contains(parent) {
                nodeDepth[parent] = max(depth + 1, nodeDepth[parent] ?? 0)
            }
        }
        // Inputs no output depends on: depth 0, before everything else there.
        for j in f.inputNodes {
            let id = ObjectIdentifier(nodes[j].layer)
            if layerDepth[id] == nil {
                layerDepth[id] = 0
                firstSeen[id] = -1
                depthOrder.append(id)
            }
        }
        var layerOf: [ObjectIdentifier: any Layer] = [:]
        for node in nodes { layerOf[ObjectIdentifier(node.layer)] = node.layer }
        // Python's sort is stable: equal keys (several unconnected inputs) keep their order.
        let ordered = depthOrder.enumerated().sorted { a, b in
            let (da, db) = (layerDepth[a.element]!, layerDepth[b.element]!)
            if da != db { return da > db }
            let (ia, ib) = (firstSeen[a.element]!, firstSeen[b.element]!)
            return ia != ib ? ia < ib : a.offset < b.offset
        }
        return ordered.map { layerOf[$0.element]! }
    }
}
