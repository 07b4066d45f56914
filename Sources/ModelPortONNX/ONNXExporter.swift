import Foundation
import ModelPortRuntime

/// How to write a model as ONNX.
public struct ONNXExportOptions: Sendable {
    /// The default-domain operator set, 13 to 21.
    public var opset = 17
    /// Declare image inputs as NCHW instead of Keras's NHWC (no input Transpose).
    public var nchwInput = false
    /// Recorded in the model's metadata (`source_file`).
    public var sourceFile: String?
    /// Extra `metadata_props` entries (e.g. `keras_version`).
    public var metadata: [String: String] = [:]

    public init(opset: Int = 17, nchwInput: Bool = false, sourceFile: String? = nil) {
        self.opset = opset
        self.nchwInput = nchwInput
        self.sourceFile = sourceFile
    }

    public static let supportedOpsets = 13...21
}

/// Writes runtime models as ONNX graphs: NCHW operators with a dynamic batch
/// dimension, Keras's NHWC inputs and outputs kept at the boundary.
public enum ONNXExporter {
    public static let producerName = "ModelPort"
    public static let producerVersion = "0.4.0"

    /// The IR version that goes with each opset (onnx.helper.VERSION_TABLE).
    static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }

    /// The ONNX model for `model`.
    /// - Parameter file: the destination, for error messages.
    /// - Throws: `ONNXError` for an unsupported opset or layer (naming it).
    public static func export(_ model: any Model, options: ONNXExportOptions = ONNXExportOptions(), file: String = "<memory>") throws -> ONNXModelProto {
        guard ONNXExportOptions.supportedOpsets.contains(options.opset) else {
            throw ONNXError(file: file, message: "opset \(options.opset) is not supported for export (supported: \(ONNXExportOptions.supportedOpsets.lowerBound) to \(ONNXExportOptions.supportedOpsets.upperBound))")
        }
        let c = ONNXExportContext(opset: options.opset, file: file)
        var graph = ONNXGraphProto()
        graph.name = model.name
        let batch = ONNXValueInfo.Dimension.symbol("batch")
        var inputs: [ONNXValue] = []
        for (k, shape) in model.inputShapes.enumerated() {
            let name = model.inputShapes.count == 1 ? "input" : "input_\(k)"
            c.reserve(name)
            let nchw = options.nchwInput && shape.count == 3
            let value = ONNXValue(name: name, kerasShape: shape, channelsFirst: nchw)
            graph.inputs.append(ONNXValueInfo(name: name, elementType: 1, shape: [batch] + value.onnxShape.map { .value(Int64($0)) }))
            inputs.append(value)
        }
        let outputs = try emit(model, inputs: inputs, c)
        for (k, output) in outputs.enumerated() {
            let value = c.channelsLast(output)
            let name = c.node("Identity", [value.name], name: model.outputShapes.count == 1 ? "output" : "output_\(k)")
            graph.outputs.append(ONNXValueInfo(name: name, elementType: 1, shape: [batch] + value.kerasShape.map { .value(Int64($0)) }))
        }
        graph.nodes = c.nodes
        graph.initializers = c.initializers
        var proto = ONNXModelProto()
        proto.irVersion = irVersion(forOpset: options.opset)
        proto.opsetImports = [ONNXOperatorSet(domain: "", version: Int64(options.opset))]
        proto.producerName = producerName
        proto.producerVersion = producerVersion
        proto.docString = "Exported by ModelPort from \(options.sourceFile ?? "a runtime model")" +
            (options.nchwInput ? "; image inputs are NCHW" : "; inputs and outputs keep Keras's channels-last layout")
        proto.graph = graph
        var metadata = options.metadata
        if let source = options.sourceFile { metadata["source_file"] = source }
        metadata["input_layout"] = options.nchwInput ? "NCHW" : "NHWC"
        proto.metadata = metadata.keys.sorted().map { ONNXMetadataEntry(key: $0, value: metadata[$0]!) }
        return proto
    }

    /// Emits a (possibly nested) model's layers, returning its outputs.
    static func emit(_ model: any Model, inputs: [ONNXValue], _ c: ONNXExportContext) throws -> [ONNXValue] {
        if let sequential = model as? Sequential {
            var x = inputs[0]
            for layer in sequential.layers { x = try emit(layer, [x], c) }
            return [x]
        }
        guard let functional = model as? Functional else {
            throw ONNXError(file: c.file, node: model.name, message: "model type \(type(of: model)) cannot be exported (supported: Sequential, Functional)")
        }
        var values = [ONNXValue?](repeating: nil, count: functional.nodes.count)
        for (k, index) in functional.inputNodes.enumerated() { values[index] = inputs[k] }
        for (i, node) in functional.nodes.enumerated() where values[i] == nil {
            values[i] = try emit(node.layer, node.inputs.map { values[$0]! }, c)
        }
        return functional.outputNodes.map { values[$0]! }
    }

    static func emit(_ layer: any Layer, _ inputs: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
        if let nested = layer as? ModelLayer {
            return try emit(nested.model, inputs: inputs, c)[0]
        }
        guard let codec = ONNXCodecs.exporter(for: layer) else {
            throw c.error(layer, "layer type '\(layer.typeName)' cannot be exported to ONNX (supported: \(ONNXCodecs.supportedLayerTypes.joined(separator: ", ")))")
        }
        do {
            return try codec.export(layer, inputs, c)
        } catch let e as RuntimeError {
            throw c.error(layer, e.message)
        }
    }

    /// Exports `model` and writes it to `path` (a temporary file renamed into
    /// place: a failure leaves any existing file untouched).
    /// - Throws: `ONNXError` naming the file and the problem.
    public static func write(_ model: any Model, to path: String, options: ONNXExportOptions = ONNXExportOptions()) throws {
        let proto = try export(model, options: options, file: path)
        try ONNXFileIO.writeAtomically(ONNXProtoAdapter.encode(proto), to: path)
    }

    /// The serialized bytes of an ONNX model.
    public static func serialize(_ proto: ONNXModelProto) -> [UInt8] { ONNXProtoAdapter.encode(proto) }
}
