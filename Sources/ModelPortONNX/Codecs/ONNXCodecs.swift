import ModelPortRuntime

/// The one table of ONNX layer families: which ONNX operators ModelPort
/// imports and which runtime layers it exports. Adding a family is one entry
/// here plus its file under `Codecs/`.
public enum ONNXCodecs {
    static let families: [ONNXFamily] = [
        .convolutions, .pooling, .core, .normalization, .activations, .merges, .reshaping, .augmentation, .graphArithmetic,
        .applicationLayers, .operations,
    ]

    /// Importers by ONNX operator (the first family claiming an operator wins; a test checks none is claimed twice).
    static let importers: [String: ONNXOpImport] = {
        var table: [String: ONNXOpImport] = [:]
        for entry in families.flatMap(\.imports) where table[entry.op] == nil { table[entry.op] = entry }
        return table
    }()

    /// Exporters by runtime layer type.
    static let exporters: [ObjectIdentifier: AnyONNXLayerExport] = {
        var table: [ObjectIdentifier: AnyONNXLayerExport] = [:]
        for entry in families.flatMap(\.exports) where table[entry.layerType] == nil { table[entry.layerType] = entry }
        return table
    }()

    /// The exporter for `layer`'s runtime type, or nil.
    static func exporter(for layer: any Layer) -> AnyONNXLayerExport? { exporters[ObjectIdentifier(type(of: layer))] }

    /// ONNX operators ModelPort imports, sorted.
    public static var supportedOps: [String] { importers.keys.sorted() }

    /// Layer types (Keras class names) ModelPort exports to ONNX, nested models included, sorted, for messages and docs.
    public static var supportedLayerTypes: [String] {
        (families.flatMap(\.exports).flatMap(\.classNames) + ["Sequential", "Functional"]).sorted()
    }

    /// Each family's name, the ONNX operators it imports and the layer
    /// types (Keras class names) it exports, for the README's table.
    public static var familySummaries: [(name: String, imports: [String], exports: [String])] {
        families.map { ($0.name, $0.imports.map(\.op).sorted(), $0.exports.flatMap(\.classNames).sorted()) }
    }

    /// Whether layers of runtime type `type` can be exported to ONNX (nested models always can).
    public static func canExport(_ type: any Layer.Type) -> Bool {
        ObjectIdentifier(type) == ObjectIdentifier(ModelLayer.self) || exporters[ObjectIdentifier(type)] != nil
    }
}
