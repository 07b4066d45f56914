import Foundation
@testable import ModelPortRuntime
import Testing
import TestSupport

/// Prediction folds a BatchNormalization and then an element-wise activation
/// into the convolution before them, and an activation into the merge or
/// BatchNormalization before it (`InferenceFusion`): the result must be
/// the layer-by-layer result (which
/// `layerOutputs` still computes) up to float32 rounding, and must follow
/// weights that change after the first prediction.
@Suite struct InferenceFusionTests {
    func filled(_ p: Parameter, seed: UInt64, around center: Float, spread: Float) {
        var generator = SplitMix64(seed: seed)
        p.value = Tensor(shape: p.value.shape, scalars: (0..<p.value.count).map { _ in center + spread * (generator.nextFloat() * 2 - 1) })
    }

    func model() throws -> (Functional, [BatchNormalization]) {
        let conv = Conv2D(name: "conv", inputChannels: 3, filters: 8, kernelSize: (3, 3), padding: .same, useBias: false)
        let bn1 = BatchNormalization(name: "bn1", channels: 8)
        let relu6 = ReLU(name: "relu6", maxValue: 6)
        let depthwise = DepthwiseConv2D(name: "dw", inputChannels: 8, kernelSize: (3, 3), strides: (2, 2), padding: .same)
        let bn2 = BatchNormalization(name: "bn2", channels: 8)
        let swish = ActivationLayer(name: "swish", activation: .swish)
        // A convolution whose output is used twice keeps its BatchNormalization apart.
        let shared = Conv2D(name: "shared", inputChannels: 8, filters: 8, kernelSize: (1, 1))
        let bn3 = BatchNormalization(name: "bn3", channels: 8)
        let sum = Merge(name: "sum", operation: .add)
        // A convolution with no BatchNormalization takes its activation; a leaky ReLU is not folded.
        let gate = Conv2D(name: "gate", inputChannels: 8, filters: 8, kernelSize: (1, 1))
        let sigmoid = ActivationLayer(name: "sigmoid", activation: .sigmoid)
        let last = Conv2D(name: "last", inputChannels: 8, filters: 4, kernelSize: (1, 1))
        let leaky = ReLU(name: "leaky", negativeSlope: 0.1, kind: .leaky)
        // A merge and a BatchNormalization with no convolution before it apply the activation after them.
        let sumReLU = ReLU(name: "sum_relu")
        let bn4 = BatchNormalization(name: "bn4", channels: 4)
        let tanh = ActivationLayer(name: "tanh", activation: .tanh)
        for (k, p) in ([conv, depthwise, shared, gate, last] as [any Layer]).flatMap(\.parameters).enumerated() {
            filled(p, seed: UInt64(k + 1), around: 0, spread: 0.5)
        }
        for (k, bn) in [bn1, bn2, bn3, bn4].enumerated() {
            filled(bn.gamma!, seed: UInt64(10 + k), around: 1, spread: 0.3)
            filled(bn.beta!, seed: UInt64(20 + k), around: 0, spread: 0.2)
            filled(bn.movingMean, seed: UInt64(30 + k), around: 0, spread: 0.2)
            filled(bn.movingVariance, seed: UInt64(40 + k), around: 1, spread: 0.5)
        }
        let nodes: [Functional.Node] = [
            .init(layer: InputLayer(name: "x", sampleShape: [9, 9, 3]), inputs: []),
            .init(layer: conv, inputs: [0]), .init(layer: bn1, inputs: [1]), .init(layer: relu6, inputs: [2]),
            .init(layer: depthwise, inputs: [3]), .init(layer: bn2, inputs: [4]), .init(layer: swish, inputs: [5]),
            .init(layer: shared, inputs: [6]), .init(layer: bn3, inputs: [7]), .init(layer: sum, inputs: [7, 8]),
            .init(layer: sumReLU, inputs: [9]), .init(layer: gate, inputs: [10]), .init(layer: sigmoid, inputs: [11]),
            .init(layer: last, inputs: [12]), .init(layer: leaky, inputs: [13]),
            .init(layer: bn4, inputs: [14]), .init(layer: tanh, inputs: [15]),
        ]
        let m = try Functional(name: "m", nodes: nodes, inputNodes: [0], outputNodes: [16])
        return (m, [bn1, bn2, bn3])
    }

    func layerByLayer(_ m: Functional, _ x: Tensor) throws -> Tensor {
        try #require(m.layerOutputs(inputs: [x]).last).output
    }

    @Test func foldedPredictionIsTheLayersUpToRounding() throws {
        let (m, norms) = try model()
        if InferenceFusion.enabled {
            #expect(m.foldedLayerNames == ["bn1", "relu6", "bn2", "swish", "sum_relu", "sigmoid", "tanh"])
        }
        var generator = SplitMix64(seed: 99)
        let x = Tensor(shape: [2, 9, 9, 3], scalars: (0..<(2 * 9 * 9 * 3)).map { _ in generator.nextFloat() })
        let expected = try layerByLayer(m, x)
        let predicted = try m.predict(x)
        #expect(maxAbsDifference(predicted, expected) < 1e-5)
        // A changed moving variance (as training or a reload would) must be seen by the next prediction.
        filled(norms[1].movingVariance, seed: 77, around: 2, spread: 0.5)
        let changed = try layerByLayer(m, x)
        #expect(maxAbsDifference(changed, expected) > 1e-3, "the test's change does not change the output")
        #expect(maxAbsDifference(try m.predict(x), changed) < 1e-5, "prediction kept the folded weights of the old statistics")
    }
}
