import Foundation
import Synchronization

/// Prediction's graph optimisation, as onnxruntime does at load time: a
/// convolution with no activation (Conv2D, DepthwiseConv2D) absorbs what
/// follows it alone —
/// - a BatchNormalization: its kernel scaled per output channel, its bias
///   scaled and shifted;
/// - then an element-wise activation (an `Activation` layer, or a `ReLU`
///   layer that is plain ReLU or ReLU6): applied by the convolution to its
///   own output (ReLU in the kernels' stores) —
/// one pass over the activations instead of two or three, and no copies.
/// An activation after a BatchNormalization that stays (its input is no such
/// convolution) or after a merge (ResNet's `Add` then ReLU) is applied by that
/// layer to its fresh output, in place, instead of to a copy.
///
/// The model itself is not changed (training and `layerOutputs`, which
/// names every Keras layer's output, run the layers as they are); the folded
/// copies are rebuilt whenever one of the weights they came from changes.
/// `MODELPORT_FUSE=0` turns folding off.
final class InferenceFusion: @unchecked Sendable {
    /// The nodes predict runs: folded convolutions in place of their
    /// convolution, identities in place of what they absorbed.
    private struct Plan {
        let nodes: [Functional.Node]
        /// The versions of every weight the folded layers were made from.
        let versions: [UInt64]
    }

    /// A convolution node and the nodes it absorbs.
    private struct Chain {
        let convolution: Int
        let normalization: Int?
        /// The activation node and its function.
        let activation: (node: Int, function: Activation)?
    }

    private let state = Mutex<Plan?>(nil)
    private let chains: [Chain]
    /// A BatchNormalization or merge node that applies the activation node after it.
    private let activatedProducers: [(producer: Int, activation: Int, function: Activation)]

    static let enabled: Bool = {
        guard let value = getenv("MODELPORT_FUSE") else { return true }
        return String(cString: value) != "0"
    }()

    init(nodes: [Functional.Node], outputNodes: [Int]) {
        var consumers = [Int](repeating: 0, count: nodes.count)
        var consumer = [Int?](repeating: nil, count: nodes.count)
        for (i, node) in nodes.enumerated() { for j in node.inputs { consumers[j] += 1; consumer[j] = i } }
        for j in outputNodes { consumers[j] += 1 }
        var layerUses = [ObjectIdentifier: Int]()
        for node in nodes { layerUses[ObjectIdentifier(node.layer), default: 0] += 1 }
        // The node that alone reads node j's output, if its layer is used at that node only
        // (a shared layer, called at several nodes, keeps its own weights).
        func soleConsumer(of j: Int) -> Int? {
            guard consumers[j] == 1, let c = consumer[j], nodes[c].inputs.count == 1,
                  layerUses[ObjectIdentifier(nodes[c].layer)] == 1 else { return nil }
            return c
        }
        chains = nodes.indices.compactMap { j in
            guard layerUses[ObjectIdentifier(nodes[j].layer)] == 1, let channels = Self.linearConvolutionChannels(nodes[j].layer)
            else { return nil }
            var last = j
            var normalization: Int?
            if let c = soleConsumer(of: j), let norm = nodes[c].layer as? BatchNormalization, norm.channels == channels {
                normalization = c
                last = c
            }
            var activation: (Int, Activation)?
            if let c = soleConsumer(of: last), let function = Self.elementwiseActivation(nodes[c].layer) {
                activation = (c, function)
            }
            guard normalization != nil || activation != nil else { return nil }
            return Chain(convolution: j, normalization: normalization, activation: activation)
        }
        let absorbed = Set(chains.flatMap { [$0.normalization, $0.activation?.node].compactMap { $0 } })
        activatedProducers = nodes.indices.compactMap { j in
            guard !absorbed.contains(j), layerUses[ObjectIdentifier(nodes[j].layer)] == 1,
                  nodes[j].layer is BatchNormalization || nodes[j].layer is Merge,
                  let c = soleConsumer(of: j), let function = Self.elementwiseActivation(nodes[c].layer) else { return nil }
            return (j, c, function)
        }
    }

    /// The output channels of a convolution that folding can extend (no activation of its own).
    private static func linearConvolutionChannels(_ layer: any Layer) -> Int? {
        switch layer {
        case let conv as Conv2D where conv.activation == .linear: return conv.filters
        case let conv as DepthwiseConv2D where conv.activation == .linear: return conv.inputChannels * conv.depthMultiplier
        default: return nil
        }
    }

    /// The element-wise function a layer computes, if it is only that.
    private static func elementwiseActivation(_ layer: any Layer) -> Activation? {
        switch layer {
        case let a as ActivationLayer where ![.linear, .softmax, .logSoftmax].contains(a.activation):
            return a.activation
        case let r as ReLU where r.kind == .relu && r.threshold == 0 && r.negativeSlope == 0:
            return r.maxValue == nil ? .relu : r.maxValue == 6 ? .relu6 : nil
        default:
            return nil
        }
    }

    /// The nodes whose layers a convolution absorbs, in node order (none when folding is off).
    var absorbedNodes: [Int] {
        guard Self.enabled else { return [] }
        return (chains.flatMap { [$0.normalization, $0.activation?.node].compactMap { $0 } }
            + activatedProducers.map(\.activation)).sorted()
    }

    /// Whether there is anything to fold.
    var isEmpty: Bool { (chains.isEmpty && activatedProducers.isEmpty) || !Self.enabled }

    /// The nodes to run for a prediction (`nodes` when nothing folds).
    func nodes(for nodes: [Functional.Node]) -> [Functional.Node] {
        guard !isEmpty else { return nodes }
        let versions = chains.flatMap { chain in
            (nodes[chain.convolution].layer.parameters + (chain.normalization.map { nodes[$0].layer.parameters } ?? []))
                .map(\.version)
        }
        return state.withLock { plan in
            if let plan, plan.versions == versions { return plan.nodes }
            var folded = nodes
            for chain in chains {
                let norm = chain.normalization.map { nodes[$0].layer as! BatchNormalization }
                let layer = Self.fold(nodes[chain.convolution].layer, norm, activation: chain.activation?.function ?? .linear)
                folded[chain.convolution] = Functional.Node(layer: layer, inputs: nodes[chain.convolution].inputs)
                for absorbed in [chain.normalization, chain.activation?.node].compactMap({ $0 }) {
                    let original = nodes[absorbed].layer
                    folded[absorbed] = Functional.Node(layer: FoldedAway(name: original.name, typeName: original.typeName),
                                                       inputs: nodes[absorbed].inputs)
                }
            }
            for (producer, activation, function) in activatedProducers {
                let layer = nodes[producer].layer
                let activated: any Layer = if let merge = layer as? Merge {
                    ActivatedMerge(merge, function)
                } else {
                    Activated(layer, function)
                }
                folded[producer] = Functional.Node(layer: activated, inputs: nodes[producer].inputs)
                let original = nodes[activation].layer
                folded[activation] = Functional.Node(layer: FoldedAway(name: original.name, typeName: original.typeName),
                                                     inputs: nodes[activation].inputs)
            }
            plan = Plan(nodes: folded, versions: versions)
            return folded
        }
    }

    /// The convolution computing `activation(norm(conv(x)))`: with a
    /// normalization, `W * scale` per output channel (the kernel's last axis
    /// in both layouts) and bias `b * scale + shift`; else `conv`'s weights.
    static func fold(_ layer: any Layer, _ norm: BatchNormalization?, activation: Activation = .linear) -> any Layer {
        let affine = norm?.affine()
        func scaled(_ kernel: Tensor) -> Tensor {
            guard let (scale, _) = affine else { return kernel }
            var k = kernel
            let c = scale.count
            for i in 0..<k.count { k.scalars[i] *= scale[i % c] }
            return k
        }
        func bias(_ b: Parameter?, channels c: Int) -> Tensor? {
            guard let (scale, shift) = affine else { return b?.value }
            return Tensor(shape: [c], scalars: (0..<c).map { k in (b?.value.scalars[k] ?? 0) * scale[k] + shift[k] })
        }
        switch layer {
        case let conv as Conv2D:
            let b = bias(conv.bias, channels: conv.filters)
            let f = Conv2D(name: conv.name, inputChannels: conv.inputChannels, filters: conv.filters, kernelSize: conv.kernelSize,
                           strides: conv.strides, dilation: conv.dilation, padding: conv.padding, activation: activation,
                           useBias: b != nil)
            f.kernel.value = scaled(conv.kernel.value)
            if let b { f.bias!.value = b }
            return f
        case let conv as DepthwiseConv2D:
            let b = bias(conv.bias, channels: conv.inputChannels * conv.depthMultiplier)
            let f = DepthwiseConv2D(name: conv.name, inputChannels: conv.inputChannels, depthMultiplier: conv.depthMultiplier,
                                    kernelSize: conv.kernelSize, strides: conv.strides, dilation: conv.dilation,
                                    padding: conv.padding, activation: activation, useBias: b != nil,
                                    groupedConvolutionLayout: conv.groupedConvolutionLayout)
            f.kernel.value = scaled(conv.kernel.value)
            if let b { f.bias!.value = b }
            return f
        default:
            return layer
        }
    }
}

/// Where a folded BatchNormalization or activation was: its input passes through.
private final class FoldedAway: Layer, @unchecked Sendable {
    let name: String
    let typeName: String
    init(name: String, typeName: String) {
        self.name = name
        self.typeName = typeName
    }
    func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    func forward(_ input: Tensor) -> Tensor { input }
}

/// A single-input layer whose fresh output gets an activation in place.
private final class Activated: Layer, @unchecked Sendable {
    let base: any Layer
    let activation: Activation
    var name: String { base.name }
    var typeName: String { base.typeName }
    init(_ base: any Layer, _ activation: Activation) {
        self.base = base
        self.activation = activation
    }
    func outputShape(for inputShape: [Int]) throws -> [Int] { try base.outputShape(for: inputShape) }
    func forward(_ input: Tensor) -> Tensor {
        var y = base.forward(input)
        activation.apply(to: &y)
        return y
    }
}

/// A merge whose fresh output gets an activation in place.
private final class ActivatedMerge: MergeLayer, @unchecked Sendable {
    let base: Merge
    let activation: Activation
    var name: String { base.name }
    var typeName: String { base.typeName }
    init(_ base: Merge, _ activation: Activation) {
        self.base = base
        self.activation = activation
    }
    func outputShape(forInputs shapes: [[Int]]) throws -> [Int] { try base.outputShape(forInputs: shapes) }
    func forward(inputs: [Tensor]) -> Tensor {
        var y = base.forward(inputs: inputs)
        activation.apply(to: &y)
        return y
    }
}
