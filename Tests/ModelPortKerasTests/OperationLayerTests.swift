import Foundation
@testable import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// Operation layers (`x / 127.5 - 1`, `x[..., ::-1]`, `stack`): written in
/// each generation's spelling and read back to the same model; a legacy
/// Keras 3 `.h5` gets a `Rescaling` where that is exact and a refusal
/// otherwise; a `Lambda` is refused saying how to replace it. (Keras's own
/// files: ApplicationTests; Keras loading ModelPort's: tools/interop_check.py.)
struct OperationLayerTests {
    static let directory = TestPaths.temporaryDirectory("keras-operations")

    /// Every operation layer kind in one functional model.
    static func model() throws -> Functional {
        typealias Node = Functional.Node
        var nodes = [Node(layer: InputLayer(name: "in", sampleShape: [4, 5, 3]), inputs: [])]
        func add(_ layer: any Layer, _ inputs: [Int]) -> Int {
            nodes.append(Node(layer: layer, inputs: inputs))
            return nodes.count - 1
        }
        let perChannel = Tensor(shape: [3], scalars: [0.5, 1.5, 2])
        var x = add(ConstantArithmetic(name: "true_divide", operation: .divide, constant: Tensor(shape: [], scalars: [127.5])), [0])
        x = add(ConstantArithmetic(name: "subtract", operation: .subtract, constant: Tensor(shape: [], scalars: [1])), [x])
        x = add(ConstantArithmetic(name: "rsub", operation: .subtract, constant: Tensor(shape: [], scalars: [2]), constantFirst: true), [x])
        x = add(ConstantArithmetic(name: "mean", operation: .add, constant: Tensor(shape: [1, 1, 3], scalars: [-0.4, -0.5, -0.6])), [x])
        x = add(ConstantArithmetic(name: "std", operation: .divide, constant: perChannel), [x])
        x = add(ConstantArithmetic(name: "power", operation: .power, constant: Tensor(shape: [], scalars: [2])), [x])
        x = add(ConstantArithmetic(name: "maximum", operation: .maximum, constant: perChannel, constantFirst: true), [x])
        x = add(ConstantArithmetic(name: "minimum", operation: .minimum, constant: Tensor(shape: [], scalars: [9])), [x])
        x = add(ConstantArithmetic(name: "scale", operation: .multiply, constant: Tensor(shape: [5, 1], scalars: [1, 2, 3, 4, 5])), [x])
        for f in [UnaryMath.Function.sqrt, .square, .negative, .absolute, .reciprocal, .log] { x = add(UnaryMath(name: f.rawValue, function: f), [x]) }
        let reversed = add(StridedSlice(name: "bgr", axes: [.all, .all, .range(start: nil, stop: nil, step: -1)]), [x])
        let channels = (0..<3).map { k in add(StridedSlice(name: "channel_\(k)", axes: [.all, .all, .index(k)]), [reversed]) }
        let stacked = add(Stack(name: "stack", axis: -1), channels)
        let strided = add(StridedSlice(name: "strided", axes: [.range(start: 1, stop: nil, step: 2), .range(start: -1, stop: 0, step: -2), .all]), [stacked])
        let sum = add(Merge(name: "sum", operation: .add), [strided, strided])
        return try Functional(name: "operations", nodes: nodes, inputNodes: [0], outputNodes: [sum])
    }

    static func input() -> Tensor {
        Tensor(shape: [2, 4, 5, 3], scalars: (0..<120).map { Float(($0 * 37) % 256) })
    }

    @Test(arguments: ["k2.h5", "keras"])
    func writtenAndReadBack(_ suffix: String) throws {
        let model = try Self.model()
        let out = Self.directory.appendingPathComponent("operations.\(suffix)").path
        try KerasWriter.write(model, to: out, options: KerasSaveOptions(generation: suffix == "k2.h5" ? .keras2 : .keras3))
        let back = try ModelLoader.load(out).model
        #expect(back.layers.map { "\(type(of: $0))" } == model.layers.map { "\(type(of: $0))" })
        let x = Self.input()
        #expect(try back.predict(x) == model.predict(x))
        #expect(try back.predict(x).scalars.allSatisfy(\.isFinite))
    }

    /// A Sequential model holding an operation (an ONNX chain `x / 255 -> Dense`) has no Sequential
    /// spelling in Keras: its generated config is the equivalent functional model.
    @Test(arguments: ["k2.h5", "keras"])
    func sequentialWithAnOperationIsWrittenAsFunctional(_ suffix: String) throws {
        let dense = Dense(name: "dense", inputUnits: 3, units: 2)
        dense.kernel.value = Tensor(shape: [3, 2], scalars: [0.5, -1, 2, 0.25, -0.75, 1.5])
        let model = try Sequential(name: "chain", inputShape: [3], layers: [
            ConstantArithmetic(name: "true_divide", operation: .divide, constant: Tensor(shape: [], scalars: [255])), dense,
        ])
        let out = Self.directory.appendingPathComponent("chain.\(suffix)").path
        try KerasWriter.write(model, to: out, options: KerasSaveOptions(generation: suffix == "k2.h5" ? .keras2 : .keras3))
        let back = try ModelLoader.load(out).model
        #expect(back is Functional)
        #expect(back.layers.filter { !($0 is InputLayer) }.map(\.name) == ["true_divide", "dense"])
        let x = Tensor(shape: [2, 3], scalars: [0, 17, 255, 128, 3, 90])
        #expect(try back.predict(x) == model.predict(x))
        // Without an operation, Sequential stays Sequential.
        let plain = try Sequential(name: "plain", inputShape: [3], layers: [dense])
        #expect(try KerasWriter.functionalIfNeeded(plain, generation: .keras3) is Sequential)
    }

    @Test func eachGenerationsSpelling() throws {
        let model = try Self.model()
        let archive = try KerasModelConfigWriter.config(for: model, dialect: .archive, file: "m.keras")
        let legacy = try KerasModelConfigWriter.config(for: model, dialect: .legacyKeras2, file: "m.h5")
        func layer(_ config: JSONValue, _ name: String) -> JSONValue? {
            config["config"]?["layers"]?.array?.first { $0["name"]?.string == name }
        }
        let divide3 = try #require(layer(archive, "true_divide"))
        #expect(divide3["class_name"] == .string("TrueDivide"))
        #expect(divide3["module"] == .string("keras.src.ops.numpy"))
        #expect(divide3["inbound_nodes"]?.array?.first?["args"]?.array?.last == .number(127.5))
        let rsub2 = try #require(layer(legacy, "rsub"))
        #expect(rsub2["class_name"] == .string("TFOpLambda") && rsub2["config"]?["function"] == .string("math.subtract"))
        #expect(rsub2["inbound_nodes"]?.array?.first?.array?.first == .string("_CONSTANT_VALUE"))
        let slice2 = try #require(layer(legacy, "bgr"))
        #expect(slice2["class_name"] == .string("SlicingOpLambda"))
    }

    /// Keras 3 cannot load op layers from a legacy .h5: exact Rescalings, else a refusal naming the layer.
    @Test func legacyKeras3H5() throws {
        typealias Node = Functional.Node
        let ops: [any Layer] = [
            ConstantArithmetic(name: "plus3", operation: .add, constant: Tensor(shape: [], scalars: [3])),
            ConstantArithmetic(name: "times", operation: .multiply, constant: Tensor(shape: [], scalars: [1.0 / 6])),
            ConstantArithmetic(name: "one_minus", operation: .subtract, constant: Tensor(shape: [], scalars: [1]), constantFirst: true),
            UnaryMath(name: "negative", function: .negative),
        ]
        var nodes = [Node(layer: InputLayer(name: "in", sampleShape: [3]), inputs: [])]
        for op in ops { nodes.append(Node(layer: op, inputs: [nodes.count - 1])) }
        let model = try Functional(name: "exact", nodes: nodes, inputNodes: [0], outputNodes: [nodes.count - 1])
        let out = Self.directory.appendingPathComponent("exact.k3.h5").path
        try KerasWriter.write(model, to: out, options: KerasSaveOptions(generation: .keras3))
        let back = try ModelLoader.load(out).model
        #expect(back.layers.dropFirst().allSatisfy { $0 is Rescaling })
        let x = Tensor(shape: [2, 3], scalars: [0.1, -2, 3.5, 7, 0, -0.25])
        #expect(try back.predict(x) == model.predict(x))

        #expect {
            _ = try KerasModelConfigWriter.config(for: try Self.model(), dialect: .legacyKeras3, file: "out.h5")
        } throws: { "\($0)".hasPrefix("out.h5: layer 'true_divide' (ops.divide): Keras 3 cannot load operation layers") }
    }

    /// The trainer runs through operation layers: every gradient of a
    /// convolution placed before them agrees with finite differences of the
    /// whole model.
    @Test func aModelWithOperationsTrains() throws {
        typealias Node = Functional.Node
        let conv = Conv2D(name: "conv", inputChannels: 3, filters: 3, kernelSize: (1, 1))
        conv.parameters[0].value = randomTensor(conv.parameters[0].shape, seed: 61)
        var nodes = [Node(layer: InputLayer(name: "in", sampleShape: [3, 4, 3]), inputs: []), Node(layer: conv, inputs: [0])]
        func add(_ layer: any Layer, _ inputs: [Int]) -> Int {
            nodes.append(Node(layer: layer, inputs: inputs))
            return nodes.count - 1
        }
        var x = add(ConstantArithmetic(name: "div", operation: .divide, constant: Tensor(shape: [], scalars: [2])), [1])
        x = add(ConstantArithmetic(name: "rsub", operation: .subtract, constant: Tensor(shape: [3], scalars: [1, 2, 3]), constantFirst: true), [x])
        x = add(UnaryMath(name: "square", function: .square), [x])
        let flipped = add(StridedSlice(name: "flip", axes: [.all, .range(start: nil, stop: nil, step: -1), .all]), [x])
        let channels = (0..<3).map { k in add(StridedSlice(name: "c\(k)", axes: [.all, .all, .index(2 - k)]), [flipped]) }
        let stacked = add(Stack(name: "stack", axis: -1), channels)
        let sum = add(Merge(name: "sum", operation: .multiply), [stacked, x])
        let model = try Functional(name: "trainable_ops", nodes: nodes, inputNodes: [0], outputNodes: [sum])

        let input = randomTensor([2, 3, 4, 3], seed: 62)
        let graph = try TrainingGraph(model)
        let gradients = Gradients(parameters: graph.trainableParameters)
        gradients.zero()
        let trace = graph.forward([input], context: TrainingContext(training: true))
        let w = randomTensor(trace.outputs[0].shape, seed: 63)
        _ = graph.backward(trace, outputGradients: [.output(w)], gradients: gradients)
        func objective() -> Double {
            let y = model.forward(inputs: [input])[0]
            return zip(y.scalars, w.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let kernel = conv.parameters[0]
        let analytic = try #require(gradients[kernel])
        let scale = max(1, analytic.scalars.map(abs).max() ?? 1)
        for i in 0..<kernel.value.count {
            let original = kernel.value.scalars[i]
            kernel.value.scalars[i] = original + 1e-2
            let up = objective()
            kernel.value.scalars[i] = original - 1e-2
            let down = objective()
            kernel.value.scalars[i] = original
            let numeric = Float((up - down) / 2e-2)
            #expect(abs(numeric - analytic.scalars[i]) / scale < 2e-2, "kernel element \(i): \(numeric) vs \(analytic.scalars[i])")
        }
    }

    static func functionalConfig(_ layers: [JSONValue]) -> JSONValue {
        let input: JSONValue = .object(["class_name": .string("InputLayer"), "name": .string("in"), "inbound_nodes": .array([]),
                                        "config": .object(["name": .string("in"), "batch_input_shape": .array([.null, .number(3)])])])
        return .object(["class_name": .string("Functional"), "config": .object([
            "name": .string("m"), "layers": .array([input] + layers),
            "input_layers": .array([.array([.string("in"), .number(0), .number(0)])]),
            "output_layers": .array([.array([.string("op"), .number(0), .number(0)])]),
        ])])
    }

    @Test func lambdaIsRefusedSayingHowToReplaceIt() throws {
        let lambda = try JSONValue.parse("""
            {"class_name": "Lambda", "name": "op", "config": {"name": "op", "function": ["4wEAAAAA", null, null]},
             "inbound_nodes": [[["in", 0, 0, {}]]]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([lambda]), file: "m.h5", kerasMajorVersion: 2)
        } throws: { "\($0)".contains("a Lambda layer holds Python bytecode") && "\($0)".contains("keras.ops") }
    }

    /// clip(x, 0, hi) is a ReLU(max_value=hi) in both spellings; other lower bounds are refused by name.
    @Test func clipFromZeroIsAReLU() throws {
        let keras2 = try JSONValue.parse("""
            {"class_name": "TFOpLambda", "name": "op", "config": {"name": "op", "function": "clip_by_value"},
             "inbound_nodes": [["in", 0, 0, {"clip_value_min": 0.0, "clip_value_max": 6.0}]]}
            """)
        let keras3 = try JSONValue.parse("""
            {"class_name": "Clip", "module": "keras.src.ops.numpy", "name": "op", "config": {"name": "op", "x_min": 0.0, "x_max": 2.5},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]}
            """)
        for (config, version, maximum) in [(keras2, 2, Float(6)), (keras3, 3, Float(2.5))] {
            let model = try KerasModelConfig.buildModel(Self.functionalConfig([config]), file: "m.h5", kerasMajorVersion: version)
            let relu = try #require(model.layers.compactMap { $0 as? ReLU }.first)
            #expect(relu.maxValue == maximum && relu.threshold == 0 && relu.negativeSlope == 0)
        }
        let shifted = try JSONValue.parse("""
            {"class_name": "Clip", "module": "keras.src.ops.numpy", "name": "op", "config": {"name": "op", "x_min": -1.0, "x_max": 1.0},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([shifted]), file: "m.keras", kerasMajorVersion: 3)
        } throws: { "\($0)".contains("layer 'op' (Clip)") && "\($0)".contains("supported only from 0") }
    }

    @Test func unknownFunctionsAndBadCallsAreNamed() throws {
        let unknown = try JSONValue.parse("""
            {"class_name": "TFOpLambda", "name": "op", "config": {"name": "op", "function": "math.cumsum"},
             "inbound_nodes": [["in", 0, 0, {"axis": 0}]]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([unknown]), file: "m.h5", kerasMajorVersion: 2)
        } throws: { "\($0)".hasPrefix("m.h5: layer 'op' (TFOpLambda), argument 'function': TensorFlow function 'math.cumsum' is not supported") }
        let extra = try JSONValue.parse("""
            {"class_name": "TFOpLambda", "name": "op", "config": {"name": "op", "function": "math.add"},
             "inbound_nodes": [["in", 0, 0, {"y": 1.0, "name": null, "alpha": 2}]]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([extra]), file: "m.h5", kerasMajorVersion: 2)
        } throws: { "\($0)".contains("argument 'alpha'") }
        let batch = try JSONValue.parse("""
            {"class_name": "SlicingOpLambda", "name": "op", "config": {"name": "op", "function": "__operators__.getitem"},
             "inbound_nodes": [["in", 0, 0, {"slice_spec": [0]}]]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([batch]), file: "m.h5", kerasMajorVersion: 2)
        } throws: { "\($0)".contains("indexing the batch axis") }
        let tooBig = try JSONValue.parse("""
            {"class_name": "Multiply", "name": "op", "config": {"name": "op"},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}, [1, 2, 3, 4]], "kwargs": {}}]}
            """)
        #expect {
            _ = try KerasModelConfig.buildModel(Self.functionalConfig([tooBig]), file: "m.h5", kerasMajorVersion: 3)
        } throws: { "\($0)".contains("does not broadcast over one sample of shape [3]") }
    }
}
