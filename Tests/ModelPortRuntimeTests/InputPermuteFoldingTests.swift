import Foundation
import ModelPortRuntime
import Testing
import TestSupport

/// `InputPermuteFolding` moves a Permute that alone reads a model input into
/// the input: the folded model, fed the permuted samples, computes what the
/// original computes from the original samples, and inputs that feed anything
/// else stay as they are.
@Suite struct InputPermuteFoldingTests {
    func randomize(_ layers: [any Layer]) {
        for (k, p) in layers.flatMap(\.parameters).enumerated() { p.value = randomTensor(p.value.shape, seed: UInt64(100 + k)) }
    }

    @Test func functionalInputTakesThePermutedSamples() throws {
        // x (C, H, W) -> Permute -> conv -> add(conv, 1x1 conv of the permuted input); y (4) -> dense, untouched.
        let conv = Conv2D(name: "conv", inputChannels: 3, filters: 3, kernelSize: (3, 3), padding: .same)
        let pointwise = Conv2D(name: "pointwise", inputChannels: 3, filters: 3, kernelSize: (1, 1))
        let dense = Dense(name: "dense", inputUnits: 4, units: 2)
        randomize([conv, pointwise, dense])
        let nodes: [Functional.Node] = [
            .init(layer: InputLayer(name: "x", sampleShape: [3, 5, 6]), inputs: []),
            .init(layer: Permute(name: "to_nhwc", dims: [2, 3, 1]), inputs: [0]),
            .init(layer: conv, inputs: [1]), .init(layer: pointwise, inputs: [1]),
            .init(layer: Merge(name: "sum", operation: .add), inputs: [2, 3]),
            .init(layer: InputLayer(name: "y", sampleShape: [4]), inputs: []),
            .init(layer: dense, inputs: [5]),
        ]
        let model = try Functional(name: "m", nodes: nodes, inputNodes: [0, 5], outputNodes: [4, 6])
        let folded = try #require(try InputPermuteFolding.folded(model))
        #expect(folded.inputDims.count == 2 && folded.inputDims[0] == [2, 3, 1] && folded.inputDims[1] == nil)
        #expect(folded.model.inputShapes == [[5, 6, 3], [4]])
        #expect(!folded.model.layers.contains { $0 is Permute })
        #expect(folded.model.inputNames == ["x", "y"])

        let x = randomTensor([2, 3, 5, 6], seed: 1), y = randomTensor([2, 4], seed: 2)
        let expected = try model.predict(inputs: [x, y])
        let got = try folded.model.predict(inputs: [Permute(name: "p", dims: [2, 3, 1]).forward(x), y])
        #expect(got.count == 2)
        for (a, b) in zip(got, expected) { #expect(a.shape == b.shape && a.scalars == b.scalars) }
    }

    @Test func sequentialLosesItsLeadingPermute() throws {
        let dense = Dense(name: "dense", inputUnits: 2, units: 3)
        randomize([dense])
        let model = try Sequential(name: "s", inputShape: [2, 4], layers: [Permute(name: "p", dims: [2, 1]), dense])
        let folded = try #require(try InputPermuteFolding.folded(model))
        #expect(folded.inputDims.count == 1 && folded.inputDims[0] == [2, 1])
        #expect(folded.model.inputShapes == [[4, 2]])
        let x = randomTensor([3, 2, 4], seed: 3)
        #expect(try folded.model.predict(Permute(name: "p", dims: [2, 1]).forward(x)).scalars == model.predict(x).scalars)
    }

    @Test func inputsReadByMoreThanAPermuteStay() throws {
        let nodes: [Functional.Node] = [
            .init(layer: InputLayer(name: "x", sampleShape: [2, 2]), inputs: []),
            .init(layer: Permute(name: "t", dims: [2, 1]), inputs: [0]),
            .init(layer: Merge(name: "sum", operation: .add), inputs: [0, 1]),
        ]
        let model = try Functional(name: "m", nodes: nodes, inputNodes: [0], outputNodes: [2])
        #expect(try InputPermuteFolding.folded(model) == nil)
        // A Permute that is itself an output stays too.
        let exposed = try Functional(name: "m", nodes: Array(nodes.prefix(2)), inputNodes: [0], outputNodes: [1])
        #expect(try InputPermuteFolding.folded(exposed) == nil)
        #expect(try InputPermuteFolding.folded(try Sequential(name: "s", inputShape: [2, 2], layers: [Permute(name: "t", dims: [2, 1])])) == nil)
    }
}
