import ModelPortRuntime

/// Turns one ONNX node into runtime layers (or constants), registering its outputs.
typealias ONNXOpImporter = @Sendable (_ node: ONNXNodeProto, _ index: Int, _ c: ONNXImportContext) throws -> Void

/// One ONNX operator a family reads: its importer, and the inputs the
/// operator needs at least (from the ONNX operator schemas); the importer
/// indexes inputs up to that count without checking.
struct ONNXOpImport: Sendable {
    let op: String
    let minimumInputs: Int
    /// The first default-domain opset defining the operator; a model of an
    /// older opset using it is refused (it is not that opset's operator).
    let since: Int
    let importer: ONNXOpImporter

    init(_ op: String, minimumInputs: Int = 1, since: Int = 1, _ importer: @escaping ONNXOpImporter) {
        self.op = op
        self.minimumInputs = minimumInputs
        self.since = since
        self.importer = importer
    }
}

/// How one runtime layer type becomes ONNX nodes, typed: `export` receives
/// the layer as `L`. Layers whose type has several kinds (ReLU, Merge,
/// GlobalPooling2D, Padding2D, InferenceIdentity) switch on the kind inside.
struct ONNXLayerExport<L: Layer>: Sendable {
    /// Emits the nodes computing the layer and returns its output. `inputs`
    /// holds one value, or several for merge layers.
    typealias Function = @Sendable (_ layer: L, _ inputs: [ONNXValue], _ context: ONNXExportContext) throws -> ONNXValue

    /// The Keras class names (`Layer.typeName`) instances of `L` can have.
    let classNames: [String]
    let export: Function
}

/// An `ONNXLayerExport` with its layer type erased, found by the runtime type
/// of the layer being exported.
struct AnyONNXLayerExport: Sendable {
    let layerType: ObjectIdentifier
    /// The runtime type's name, e.g. `Conv2D` (for tests and messages).
    let runtimeTypeName: String
    let classNames: [String]
    let export: @Sendable (_ layer: any Layer, _ inputs: [ONNXValue], _ context: ONNXExportContext) throws -> ONNXValue

    init<L: Layer>(_ entry: ONNXLayerExport<L>) {
        layerType = ObjectIdentifier(L.self)
        runtimeTypeName = String(describing: L.self)
        classNames = entry.classNames
        let typed = entry.export
        export = { layer, inputs, c in
            // The one conditional cast: the table is keyed by L's type, so this only fails if the lookup is wrong.
            guard let l = layer as? L else { throw c.error(layer, "the \(L.self) exporter was given a \(type(of: layer))") }
            return try typed(l, inputs, c)
        }
    }

    /// The entry exporting layers of type `type` (Keras class names `classNames`).
    static func layer<L: Layer>(_ type: L.Type, _ classNames: [String], _ export: @escaping ONNXLayerExport<L>.Function) -> AnyONNXLayerExport {
        AnyONNXLayerExport(ONNXLayerExport<L>(classNames: classNames, export: export))
    }
}

/// Everything ONNX about one layer family: the operators it imports and the
/// runtime layer types it exports. Each family lives in one file under `Codecs/`.
struct ONNXFamily: Sendable {
    let name: String
    let imports: [ONNXOpImport]
    let exports: [AnyONNXLayerExport]

    init(_ name: String, imports: [ONNXOpImport], exports: [AnyONNXLayerExport] = []) {
        self.name = name
        self.imports = imports
        self.exports = exports
    }
}
