import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// Models built in Swift that use every layer the ONNX codecs
/// export, with random weights: exported, read back by the importer, and run
/// on the same inputs as the original, element by element. (The Keras-made
/// coverage fixtures are also checked with onnxruntime by tools/interop_check.py.)
struct LayerCoverageTests {
    /// Builds a Sequential model layer by layer, sizing each from the running shape.
    struct Builder {
        var shape: [Int]
        var layers: [any Layer] = []
        init(_ input: [Int]) { shape = input }
        mutating func add(_ make: ([Int]) -> any Layer) {
            let layer = make(shape)
            shape = try! layer.outputShape(for: shape)
            layers.append(layer)
        }
    }

    /// Random values for every parameter (variances kept positive).
    static func randomize(_ layers: [any Layer], seed: UInt64) {
        var s = seed
        for layer in layers {
            for p in layer.parameters {
                s += 1
                var t = randomTensor(p.shape, seed: s)
                if p.name.contains("variance") { t = Tensor(shape: t.shape, scalars: t.scalars.map { abs($0) + 0.5 }) }
                if p.name == "count" { t = Tensor(shape: t.shape, scalars: [100]) }
                p.value = t
            }
        }
    }

    static func imageModel() throws -> Sequential {
        var b = Builder([12, 12, 3])
        for kind in RandomAugmentation.Kind.allCases {
            b.add { _ in RandomAugmentation(name: "augment_\(kind.rawValue)", kind: kind) }
        }
        b.add { _ in Rescaling(name: "rescale", scale: 0.5, offset: 0.1) }
        b.add { _ in Normalization(name: "norm", features: 3) }
        b.add { _ in Padding2D(name: "zpad", kind: .zeroPad, top: 1, bottom: 1, left: 1, right: 2) }
        b.add { s in Conv2D(name: "conv", inputChannels: s[2], filters: 4, kernelSize: (3, 3), strides: (2, 2), padding: .same, activation: .relu) }
        b.add { s in BatchNormalization(name: "bn", channels: s[2]) }
        b.add { s in DepthwiseConv2D(name: "dw", inputChannels: s[2], depthMultiplier: 2, kernelSize: (3, 3), padding: .same, activation: .relu6) }
        b.add { s in DepthwiseConv2D(name: "grouped", inputChannels: s[2], kernelSize: (3, 3), padding: .same, groupedConvolutionLayout: true) }
        b.add { s in GroupedConv2D(name: "grouped_2", inputChannels: s[2], filters: 6, groups: 2, kernelSize: (3, 3), strides: (1, 2), padding: .same) }
        b.add { s in LayerScale(name: "layer_scale", channels: s[2], initialValue: 1e-6) }
        b.add { s in SeparableConv2D(name: "sep", inputChannels: s[2], filters: 5, kernelSize: (3, 3), dilation: (1, 1), padding: .valid, activation: .swish) }
        b.add { s in Conv2DTranspose(name: "deconv", inputChannels: s[2], filters: 3, kernelSize: (3, 3), strides: (2, 2), padding: .same) }
        b.add { s in Conv2DTranspose(name: "deconv_k1", inputChannels: s[2], filters: 3, kernelSize: (1, 1), strides: (2, 2), padding: .same) }
        b.add { _ in Padding2D(name: "crop", kind: .crop, top: 1, bottom: 0, left: 1, right: 2) }
        b.add { _ in UpSampling2D(name: "up", size: (2, 1)) }
        b.add { _ in UpSampling2D(name: "up_bilinear", size: (3, 2), interpolation: .bilinear) }
        b.add { _ in MaxPooling2D(name: "maxpool", poolSize: (3, 3), strides: (2, 2), padding: .same) }
        b.add { _ in AveragePooling2D(name: "avgpool", poolSize: (2, 2), strides: (1, 1), padding: .same) }
        b.add { _ in Pad2D(name: "reflect_pad", mode: .reflect, top: 1, bottom: 2, left: 0, right: 1) }
        b.add { _ in Pad2D(name: "value_pad", mode: .constant(0.5), top: 0, bottom: 1, left: 2, right: 0) }
        b.add { _ in Pad2D(name: "edge_pad", mode: .edge, top: 1, bottom: 0, left: 1, right: 1) }
        b.add { _ in WindowPooling(name: "window_max", kind: .max, kernel: [2, 2], strides: [1, 2], dilations: [2, 1], padsBegin: [1, 0],
                                   padsEnd: [0, 1], ceilMode: true) }
        b.add { _ in WindowPooling(name: "window_avg", kind: .average(countIncludePad: true), kernel: [3, 2], strides: [1, 1], dilations: [1, 1],
                                   padsBegin: [1, 1], padsEnd: [1, 0], ceilMode: false) }
        b.add { _ in LocalResponseNormalization(name: "lrn", size: 3, alpha: 0.2, beta: 0.75, bias: 1.5) }
        b.add { s in InstanceNormalization(name: "instance_norm", channels: s[2]) }
        b.add { _ in LpNormalization(name: "l1_norm", axis: 0, p: 1) }
        b.add { s in Resize2D(name: "resize_cubic", mode: .cubic(a: -0.5, excludeOutside: true), transformation: .halfPixel,
                              outputSize: (s[0] - 3, s[1] + 2), scales: (Double(s[0] - 3) / Double(s[0]), Double(s[1] + 2) / Double(s[1]))) }
        b.add { s in Resize2D(name: "resize_nearest", mode: .nearest(.roundPreferFloor), transformation: .asymmetric,
                              outputSize: (s[0] * 3 / 4, s[1] * 3 / 2), scales: (0.75, 1.5)) }
        b.add { s in Resize2D(name: "resize_crop", mode: .linear, transformation: .tfCropAndResize, outputSize: (s[0], s[1] - 1),
                              scales: (1, Double(s[1] - 1) / Double(s[1])), antialias: false, roi: ((0.25, 1.5), (-0.5, 0.75)), extrapolationValue: 0.5) }
        b.add { s in PReLU(name: "prelu", inputShape: s, sharedAxes: [1, 2]) }
        b.add { _ in ELU(name: "elu", alpha: 0.7) }
        b.add { _ in ReLU(name: "relu_cfg", maxValue: 2, negativeSlope: 0.1, threshold: 0.05) }
        b.add { _ in ReLU(name: "leaky", negativeSlope: 0.2, kind: .leaky) }
        b.add { _ in InferenceIdentity(name: "sdrop", kind: .spatialDropout2D, rate: 0.1) }
        b.add { _ in Dropout(name: "drop", rate: 0.2) }
        b.add { s in LayerNormalization(name: "ln", features: s[2]) }
        b.add { _ in UnitNormalization(name: "unit_norm") }
        b.add { s in Softmax(name: "softmax_h", axis: 0) }
        b.add { _ in ActivationLayer(name: "gelu", activation: .gelu) }
        b.add { _ in GlobalPooling2D(name: "gap", kind: .average, keepDims: true) }
        b.add { _ in Flatten(name: "flatten") }
        b.add { s in Dense(name: "dense", inputUnits: s[0], units: 8, activation: .tanh) }
        b.add { _ in Reshape(name: "reshape", targetShape: [2, 4]) }
        b.add { _ in Permute(name: "permute", dims: [2, 1]) }
        b.add { s in Dense(name: "dense_seq", inputUnits: s[1], units: 3, activation: .sigmoid) }
        b.add { s in BatchNormalization(name: "bn_seq", channels: s[1]) }
        b.add { _ in Flatten(name: "flatten_2") }
        b.add { s in BatchNormalization(name: "bn_vec", channels: s[0], scale: false) }
        b.add { _ in RepeatVector(name: "repeat", count: 2) }
        b.add { _ in Flatten(name: "flatten_3") }
        for (k, a) in [Activation.softplus, .softsign, .selu, .elu, .hardSigmoid, .hardSigmoidKeras2, .hardSilu, .silu, .geluTanh, .exponential].enumerated() {
            b.add { _ in ActivationLayer(name: "act_\(k)", activation: a) }
        }
        b.add { s in Dense(name: "out", inputUnits: s[0], units: 5, activation: .logSoftmax) }
        b.add { _ in ActivationLayer(name: "linear", activation: .linear) }
        randomize(b.layers, seed: 7)
        return try Sequential(name: "coverage_image", inputShape: [12, 12, 3], layers: b.layers)
    }

    static func mergeModel() throws -> Functional {
        typealias Node = Functional.Node
        let input = InputLayer(name: "in", sampleShape: [6, 6, 2])
        let a = Conv2D(name: "a", inputChannels: 2, filters: 3, kernelSize: (3, 3), padding: .same)
        let b = Conv2D(name: "b", inputChannels: 2, filters: 3, kernelSize: (1, 1))
        var inner = Builder([6, 6, 3])
        inner.add { s in Conv2D(name: "inner_conv", inputChannels: s[2], filters: 3, kernelSize: (3, 3), padding: .same, activation: .elu) }
        inner.add { s in BatchNormalization(name: "inner_bn", channels: s[2]) }
        let nested = ModelLayer(model: try Sequential(name: "block", inputShape: [6, 6, 3], layers: inner.layers), typeName: "Sequential")
        let ops: [Merge.Operation] = [.add, .subtract, .multiply, .average, .maximum, .minimum]
        var nodes = [Node(layer: input, inputs: []), Node(layer: a, inputs: [0]), Node(layer: b, inputs: [0]), Node(layer: nested, inputs: [1])]
        for op in ops { nodes.append(Node(layer: Merge(name: op.rawValue.lowercased(), operation: op), inputs: op == .subtract ? [3, 2] : [3, 2, 1].prefix(op == .add || op == .average ? 3 : 2).map { $0 })) }
        // InceptionResNetV2's scaled residual, and a squeeze-and-excitation Multiply broadcasting [1, 1, 3].
        nodes.append(Node(layer: ScaledSum(name: "scaled_residual", scale: 0.17), inputs: [3, 1]))
        nodes.append(Node(layer: GlobalPooling2D(name: "squeeze", kind: .average, keepDims: true), inputs: [2]))
        nodes.append(Node(layer: Merge(name: "excite", operation: .multiply), inputs: [3, nodes.count - 1]))
        let concat = Merge(name: "concat", operation: .concatenate, axis: -1)
        nodes.append(Node(layer: concat, inputs: Array(4..<(4 + ops.count)) + [nodes.count - 3, nodes.count - 1]))
        let gmp = GlobalPooling2D(name: "gmp", kind: .max)
        nodes.append(Node(layer: gmp, inputs: [nodes.count - 1]))
        let flat = Flatten(name: "flat")
        nodes.append(Node(layer: flat, inputs: [1]))
        let concatVectors = Merge(name: "concat_vectors", operation: .concatenate, axis: 0)
        nodes.append(Node(layer: concatVectors, inputs: [nodes.count - 2, nodes.count - 1]))
        let dense = Dense(name: "head", inputUnits: 3 * (ops.count + 2) + 108, units: 4, activation: .softmax)
        nodes.append(Node(layer: dense, inputs: [nodes.count - 1]))
        randomize(nodes.map(\.layer), seed: 11)
        return try Functional(name: "coverage_merge", nodes: nodes, inputNodes: [0], outputNodes: [nodes.count - 1, 4])
    }

    /// The operations of Keras functional graphs (`x / 127.5 - 1`, `x[..., ::-1]`, `stack`).
    static func operationsModel() throws -> Functional {
        typealias Node = Functional.Node
        let input = InputLayer(name: "in", sampleShape: [4, 5, 3])
        var nodes = [Node(layer: input, inputs: [])]
        func add(_ layer: any Layer, _ inputs: [Int]) -> Int {
            nodes.append(Node(layer: layer, inputs: inputs))
            return nodes.count - 1
        }
        let perChannel = Tensor(shape: [3], scalars: [0.5, 1.5, 2])
        let image = Tensor(shape: [1, 5, 1], scalars: [0.7, 1.1, 1.3, 0.9, 1.6])
        var x = add(ConstantArithmetic(name: "divide", operation: .divide, constant: Tensor(shape: [], scalars: [4])), [0])
        x = add(ConstantArithmetic(name: "add", operation: .add, constant: perChannel), [x])
        x = add(ConstantArithmetic(name: "multiply", operation: .multiply, constant: image, constantFirst: true), [x])
        x = add(ConstantArithmetic(name: "maximum", operation: .maximum, constant: Tensor(shape: [], scalars: [0.1])), [x])
        x = add(ConstantArithmetic(name: "power", operation: .power, constant: perChannel), [x])
        x = add(ConstantArithmetic(name: "subtract", operation: .subtract, constant: Tensor(shape: [], scalars: [1]), constantFirst: true), [x])
        x = add(ConstantArithmetic(name: "minimum", operation: .minimum, constant: perChannel), [x])
        x = add(UnaryMath(name: "absolute", function: .absolute), [x])
        x = add(ConstantArithmetic(name: "offset", operation: .add, constant: Tensor(shape: [], scalars: [0.5])), [x])
        for f in [UnaryMath.Function.sqrt, .square, .reciprocal, .log, .negative] { x = add(UnaryMath(name: f.rawValue, function: f), [x]) }
        let reversed = add(StridedSlice(name: "reverse", axes: [.all, .range(start: nil, stop: nil, step: -1), .range(start: nil, stop: nil, step: -1)]), [x])
        let channels = (0..<3).map { k in add(StridedSlice(name: "channel_\(k)", axes: [.all, .all, .index(2 - k)]), [reversed]) }
        let stacked = add(Stack(name: "stack", axis: -1), channels)
        let strided = add(StridedSlice(name: "strided", axes: [.range(start: 1, stop: nil, step: 2), .range(start: -1, stop: 0, step: -2), .all]), [stacked])
        let rows = add(Stack(name: "stack_rows", axis: 0), [strided, strided])
        // -log(1 / v²) >= log(0.5) here, so the divisor stays away from zero.
        let shifted = add(ConstantArithmetic(name: "shift", operation: .add, constant: Tensor(shape: [], scalars: [1])), [rows])
        let divided = add(ConstantArithmetic(name: "true_divide", operation: .divide, constant: Tensor(shape: [], scalars: [2]), constantFirst: true), [shifted])
        return try Functional(name: "coverage_operations", nodes: nodes, inputNodes: [0], outputNodes: [divided, x])
    }

    /// One of each ONNX-only 2-D layer, small (for the attribute sweep).
    static func onnxOnlyModel() throws -> Sequential {
        var b = Builder([6, 7, 3])
        b.add { _ in Pad2D(name: "reflect_pad", mode: .reflect, top: 1, bottom: 2, left: 0, right: 1) }
        b.add { _ in Pad2D(name: "wrap_pad", mode: .wrap, top: 0, bottom: 1, left: 2, right: 0) }
        b.add { _ in WindowPooling(name: "window_avg", kind: .average(countIncludePad: true), kernel: [3, 2], strides: [1, 2], dilations: [1, 2],
                                   padsBegin: [1, 1], padsEnd: [1, 0], ceilMode: true) }
        b.add { _ in LocalResponseNormalization(name: "lrn", size: 3, alpha: 0.2, beta: 0.75, bias: 1.5) }
        b.add { s in InstanceNormalization(name: "instance_norm", channels: s[2]) }
        b.add { _ in LpNormalization(name: "l2_norm", axis: 1, p: 2) }
        b.add { s in Resize2D(name: "resize_cubic", mode: .cubic(a: -0.75, excludeOutside: false), transformation: .alignCorners,
                              outputSize: (s[0] + 3, s[1] - 1), scales: (Double(s[0] + 3) / Double(s[0]), Double(s[1] - 1) / Double(s[1])),
                              antialias: true) }
        b.add { s in WindowConvTranspose(name: "tconv", inputChannels: s[2], filters: 3, kernelSize: [2, 3], strides: [2, 1], dilations: [1, 2],
                                         padsBegin: [1, 0], outputSize: [2 * s[0] - 1, s[1] + 3], groups: 3) }
        randomize(b.layers, seed: 17)
        return try Sequential(name: "coverage_onnx_only", inputShape: [6, 7, 3], layers: b.layers)
    }

    /// 3-D windows (ONNX-only layers).
    static func volumeModel() throws -> Sequential {
        var b = Builder([4, 5, 6, 2])
        b.add { s in WindowConvolution(name: "conv3d", inputChannels: s[3], filters: 4, kernelSize: [2, 3, 2], strides: [1, 2, 1],
                                       dilations: [1, 1, 2], padsBegin: [1, 1, 0], padsEnd: [0, 1, 1], groups: 2) }
        b.add { _ in WindowPooling(name: "pool3d", kind: .max, kernel: [2, 2, 2], strides: [1, 1, 2], dilations: [1, 1, 1], padsBegin: [0, 1, 0],
                                   padsEnd: [1, 0, 0], ceilMode: true) }
        b.add { s in WindowConvTranspose(name: "tconv3d", inputChannels: s[3], filters: 4, kernelSize: [2, 2, 3], strides: [2, 1, 2],
                                         dilations: [1, 2, 1], padsBegin: [1, 0, 1], outputSize: [2 * s[0] - 1, s[1] + 2, 2 * s[2]], groups: 2) }
        randomize(b.layers, seed: 13)
        return try Sequential(name: "coverage_volume", inputShape: [4, 5, 6, 2], layers: b.layers)
    }

    @Test(arguments: [13, 17, 20])
    func everyExportedLayerRoundTrips(_ opset: Int) throws {
        for model in [try Self.imageModel() as any Model, try Self.mergeModel(), try Self.operationsModel(), try Self.volumeModel()] {
            let proto = try roundTrip(try ONNXExporter.export(model, options: ONNXExportOptions(opset: opset)))
            let imported = try ONNXImporter.buildModel(proto, file: "\(model.name).onnx")
            let inputs = model.inputShapes.enumerated().map { k, s in randomTensor([5] + s, seed: UInt64(100 + k)) }
            let expected = model.forward(inputs: inputs)
            let actual = imported.forward(inputs: inputs)
            #expect(actual.count == expected.count)
            for (x, y) in zip(actual, expected) {
                #expect(maxAbsDifference(x, y) <= 1e-5, "\(model.name) at opset \(opset): max diff \(maxAbsDifference(x, y))")
            }
        }
    }

    /// Every layer type (Keras class name) the ONNX codecs export is in one of the models above.
    @Test func theModelsUseEveryExportedLayerType() throws {
        var used = Set<String>()
        func collect(_ layers: [any Layer]) {
            for l in layers {
                if let m = l as? ModelLayer { collect(m.model.layers) } else { used.insert(l.typeName) }
            }
        }
        collect(try Self.imageModel().layers)
        collect(try Self.mergeModel().layers)
        collect(try Self.operationsModel().layers)
        collect(try Self.volumeModel().layers)
        // Identity-at-inference layers share one exporter; one of them is enough.
        let identities = Set(InferenceIdentity.Kind.allCases.map(\.rawValue)).subtracting(["SpatialDropout2D"])
        let missing = Set(ONNXCodecs.supportedLayerTypes).subtracting(["Sequential", "Functional"]).subtracting(used).subtracting(identities)
        #expect(missing.isEmpty, "exporters without a test model: \(missing.sorted())")
    }
}
