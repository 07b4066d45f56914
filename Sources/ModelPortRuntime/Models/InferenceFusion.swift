import Foundation
import Synchronization

/// Prediction's graph optimisation: a BatchNormalization whose input is a
/// convolution with no activation (Conv2D, DepthwiseConv2D) feeding nothing
/// else is folded into that convolution — its kernel scaled per output
/// channel, its bias scaled and shifted — as onnxruntime does at load time:
/// one pass over the activations instead of two.
///
/// The model itself is not changed (training and `layerOutputs`, which
/// names every Keras layer's output, run the layers as they are); the folded
/// copies are rebuilt whenever one of the weights they came from changes.
/// `MODELPORT_FUSE=0` turns folding off.
final class InferenceFusion: @unchecked Sendable {
    /// The nodes predict runs: folded convolutions in place of their
    /// convolution, an identity in place of the BatchNormalization.
    private struct Plan {
        let nodes: [Functional.Node]
        /// The versions of every weight the folded layers were made from.
        let versions: [UInt64]
    }

    private let state = Mutex<Plan?>(nil)
    /// (convolution node, BatchNormalization node) pairs that fold.
    private let pairs: [(convolution: Int, normalization: Int)]

    static let enabled: Bool = {
        guard let value = getenv("MODELPORT_FUSE") else { return true }
        return String(cString: value) != "0"
    }()

    init(nodes: [Functional.Node], outputNodes: [Int]) {
        var consumers = [Int](repeating: 0, count: nodes.count)
        for node in nodes { for j in node.inputs { consumers[j] += 1 } }
        for j in outputNodes { consumers[j] += 1 }
        var layerUses = [ObjectIdentifier: Int]()
        for node in nodes { layerUses[ObjectIdentifier(node.layer), default: 0] += 1 }
        pairs = nodes.indices.compactMap { i in
            guard let norm = nodes[i].layer as? BatchNormalization, nodes[i].inputs.count == 1 else { return nil }
            let j = nodes[i].inputs[0]
            // A shared layer (called at several nodes) keeps its own weights.
            guard consumers[j] == 1, layerUses[ObjectIdentifier(nodes[j].layer)] == 1,
                  layerUses[ObjectIdentifier(norm)] == 1 else { return nil }
            switch nodes[j].layer {
            case let conv as Conv2D where conv.activation == .linear && conv.filters == norm.channels: return (j, i)
            case let conv as DepthwiseConv2D where conv.activation == .linear
                && conv.inputChannels * conv.depthMultiplier == norm.channels: return (j, i)
            default: return nil
            }
        }
    }

    /// Whether there is anything to fold.
    var isEmpty: Bool { pairs.isEmpty || !Self.enabled }

    /// The nodes to run for a prediction (`nodes` when nothing folds).
    func nodes(for nodes: [Functional.Node]) -> [Functional.Node] {
        guard !isEmpty else { return nodes }
        let versions = pairs.flatMap { pair in
            (nodes[pair.convolution].layer.parameters + nodes[pair.normalization].layer.parameters).map(\.version)
        }
        return state.withLock { plan in
            if let plan, plan.versions == versions { return plan.nodes }
            var folded = nodes
            for pair in pairs {
                let norm = nodes[pair.normalization].layer as! BatchNormalization
                let layer = Self.fold(nodes[pair.convolution].layer, norm)
                folded[pair.convolution] = Functional.Node(layer: layer, inputs: nodes[pair.convolution].inputs)
                folded[pair.normalization] = Functional.Node(layer: FoldedAway(name: norm.name),
                                                             inputs: nodes[pair.normalization].inputs)
            }
            plan = Plan(nodes: folded, versions: versions)
            return folded
        }
    }

    /// The convolution computing `norm(conv(x))`: `W * scale` per output channel
    /// (the kernel's last axis in both layouts), bias `b * scale + shift`.
    static func fold(_ layer: any Layer, _ norm: BatchNormalization) -> any Layer {
        let (scale, shift) = norm.affine()
        let c = scale.count
        func scaled(_ kernel: Tensor) -> Tensor {
            var k = kernel
            for i in 0..<k.count { k.scalars[i] *= scale[i % c] }
            return k
        }
        func bias(_ b: Parameter?) -> Tensor {
            Tensor(shape: [c], scalars: (0..<c).map { k in (b?.value.scalars[k] ?? 0) * scale[k] + shift[k] })
        }
        switch layer {
        case let conv as Conv2D:
            let f = Conv2D(name: conv.name, inputChannels: conv.inputChannels, filters: conv.filters, kernelSize: conv.kernelSize,
                           strides: conv.strides, dilation: conv.dilation, padding: conv.padding, activation: .linear, useBias: true)
            f.kernel.value = scaled(conv.kernel.value)
            f.bias!.value = bias(conv.bias)
            return f
        case let conv as DepthwiseConv2D:
            let f = DepthwiseConv2D(name: conv.name, inputChannels: conv.inputChannels, depthMultiplier: conv.depthMultiplier,
                                    kernelSize: conv.kernelSize, strides: conv.strides, dilation: conv.dilation,
                                    padding: conv.padding, activation: .linear, useBias: true,
                                    groupedConvolutionLayout: conv.groupedConvolutionLayout)
            f.kernel.value = scaled(conv.kernel.value)
            f.bias!.value = bias(conv.bias)
            return f
        default:
            return layer
        }
    }
}

/// Where a folded BatchNormalization was: its input passes through.
private final class FoldedAway: Layer, @unchecked Sendable {
    let name: String
    var typeName: String { "BatchNormalization" }
    init(name: String) { self.name = name }
    func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    func forward(_ input: Tensor) -> Tensor { input }
}
