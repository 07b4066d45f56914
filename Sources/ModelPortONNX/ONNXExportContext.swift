import ModelPortRuntime

/// A tensor flowing through the ONNX graph being written.
///
/// Layout convention: the runtime (and Keras) is channels-last (NHWC). An
/// ONNX value is either in that same layout (`channelsFirst == false`), or is
/// the Keras tensor with its last axis moved to axis 1 — NCHW for images —
/// which is what ONNX's Conv, pooling and BatchNormalization want.
public struct ONNXValue: Sendable, Equatable {
    public let name: String
    /// The Keras sample shape (no batch axis, channels last), whatever the layout.
    public let kerasShape: [Int]
    public let channelsFirst: Bool

    /// The sample shape as the ONNX tensor holds it (no batch axis).
    public var onnxShape: [Int] {
        channelsFirst ? [kerasShape.last!] + kerasShape.dropLast() : kerasShape
    }

    /// The ONNX axis (batch included) of Keras sample axis `axis` (0-based, no batch).
    public func onnxAxis(ofKerasSampleAxis axis: Int) -> Int {
        guard channelsFirst else { return axis + 1 }
        return axis == kerasShape.count - 1 ? 1 : axis + 2
    }
}

/// Builds the nodes and initializers of one ONNX graph. Layer exporters (the
/// families under `Codecs/`, found through `ONNXCodecs`) call it; it names
/// everything uniquely and keeps transposes to a minimum by remembering each
/// value's other layout.
public final class ONNXExportContext {
    public let opset: Int
    public let file: String
    private(set) var nodes: [ONNXNodeProto] = []
    private(set) var initializers: [ONNXTensorProto] = []
    private var usedNames: Set<String> = []
    private var otherLayout: [String: ONNXValue] = [:]

    init(opset: Int, file: String) {
        self.opset = opset
        self.file = file
    }

    /// A name not used yet in this graph, from `base`.
    public func uniqueName(_ base: String) -> String {
        let clean = base.isEmpty ? "value" : base
        var name = clean
        var k = 1
        while usedNames.contains(name) { name = "\(clean)_\(k)"; k += 1 }
        usedNames.insert(name)
        return name
    }

    /// Reserves a name given from outside (graph inputs).
    func reserve(_ name: String) { usedNames.insert(name) }

    /// Adds a node and returns its (single) output name.
    @discardableResult
    public func node(_ op: String, _ inputs: [String], _ attributes: [ONNXAttribute] = [], name: String) -> String {
        let output = uniqueName(name)
        nodes.append(ONNXNodeProto(name: output, opType: op, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Adds a float32 constant and returns its name.
    public func constant(_ name: String, shape: [Int], _ values: [Float]) -> String {
        precondition(shape.reduce(1, *) == values.count)
        let unique = uniqueName(name)
        initializers.append(ONNXTensorProto(name: unique, shape: shape, floats: values))
        return unique
    }

    /// Adds an int64 constant (shapes, pads, axes) and returns its name.
    public func constant(_ name: String, shape: [Int], int64s values: [Int64]) -> String {
        let unique = uniqueName(name)
        initializers.append(ONNXTensorProto(name: unique, shape: shape, int64s: values))
        return unique
    }

    /// A scalar float32 constant.
    public func scalar(_ name: String, _ value: Float) -> String { constant(name, shape: [], [value]) }

    /// `value` in the channels-first layout, adding one Transpose the first time.
    public func channelsFirst(_ value: ONNXValue) -> ONNXValue {
        if value.channelsFirst || value.kerasShape.count < 2 { return value }
        if let cached = otherLayout[value.name] { return cached }
        let rank = value.kerasShape.count + 1
        let perm = [0, rank - 1] + Array(1..<(rank - 1))
        let name = node("Transpose", [value.name], [ONNXAttribute("perm", .ints(perm.map { Int64($0) }))], name: value.name + "_nchw")
        let result = ONNXValue(name: name, kerasShape: value.kerasShape, channelsFirst: true)
        otherLayout[value.name] = result
        otherLayout[name] = value
        return result
    }

    /// `value` in Keras's channels-last layout, adding one Transpose the first time.
    public func channelsLast(_ value: ONNXValue) -> ONNXValue {
        if !value.channelsFirst { return value }
        if let cached = otherLayout[value.name] { return cached }
        let rank = value.kerasShape.count + 1
        let perm = [0] + Array(2..<rank) + [1]
        let name = node("Transpose", [value.name], [ONNXAttribute("perm", .ints(perm.map { Int64($0) }))], name: value.name + "_nhwc")
        let result = ONNXValue(name: name, kerasShape: value.kerasShape, channelsFirst: false)
        otherLayout[value.name] = result
        otherLayout[name] = value
        return result
    }

    /// An error about `layer`.
    public func error(_ layer: any Layer, _ message: String) -> ONNXError {
        ONNXError(file: file, node: layer.name, op: layer.typeName, message: message)
    }
}
