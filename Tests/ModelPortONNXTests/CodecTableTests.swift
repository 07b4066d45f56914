import Foundation
import ModelPortKeras
@testable import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// The one table of ONNX codec families (`ONNXCodecs`): each operator and
/// layer type belongs to one family, and every runtime layer type the Keras
/// side can import has an ONNX export codec unless it is listed below.
struct CodecTableTests {
    /// Runtime layer types with deliberately no ONNX export codec, and why.
    static let notExportable: [String: String] = [
        "ModelLayer": "a nested model: the exporter emits its layers in place",
        "ONNXUnaryOp": "made only by the ONNX importer (an element-wise ONNX operator)",
        "ONNXBinaryOp": "made only by the ONNX importer (Div or Pow of two computed tensors)",
        "ONNXReduce": "made only by the ONNX importer (ReduceMean/ReduceSum/ReduceMax)",
    ]

    /// The runtime types with an export codec, by name.
    static var exportedTypeNames: Set<String> { Set(ONNXCodecs.families.flatMap(\.exports).map(\.runtimeTypeName)) }

    @Test func everyOperatorAndLayerTypeBelongsToOneFamily() {
        let ops = ONNXCodecs.families.flatMap(\.imports).map(\.op)
        #expect(ops.count == Set(ops).count, "operators claimed twice: \(Dictionary(grouping: ops, by: { $0 }).filter { $1.count > 1 }.keys.sorted())")
        let types = ONNXCodecs.families.flatMap(\.exports).map(\.runtimeTypeName)
        #expect(types.count == Set(types).count, "layer types claimed twice: \(Dictionary(grouping: types, by: { $0 }).filter { $1.count > 1 }.keys.sorted())")
        let classNames = ONNXCodecs.families.flatMap(\.exports).flatMap(\.classNames)
        #expect(classNames.count == Set(classNames).count)
        #expect(ONNXImporter.supportedOps == Set(ops).sorted())
        #expect(ONNXCodecs.supportedLayerTypes == (classNames + ["Sequential", "Functional"]).sorted())
        let names = ONNXCodecs.families.map(\.name)
        #expect(names.count == Set(names).count)
    }

    /// Every `final class X: Layer` of the runtime (the layers Keras files import into) and of the ONNX module.
    @Test func everyRuntimeLayerTypeHasACodecOrIsListed() throws {
        var declared: [String] = []
        for directory in ["Sources/ModelPortRuntime/Layers", "Sources/ModelPortONNX"] {
            let url = TestPaths.repoRoot.appendingPathComponent(directory)
            for file in try FileManager.default.contentsOfDirectory(atPath: url.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("public final class ") {
                    let rest = line.dropFirst("public final class ".count)
                    guard let colon = rest.firstIndex(of: ":") else { continue }
                    let conformances = rest[colon...]
                    if conformances.contains("Layer") { declared.append(String(rest[..<colon])) }
                }
            }
        }
        #expect(declared.count >= 25, "found only \(declared)")
        let uncovered = Set(declared).subtracting(Self.exportedTypeNames).subtracting(Self.notExportable.keys)
        #expect(uncovered.isEmpty, "runtime layer types with neither an ONNX export codec nor a reason: \(uncovered.sorted())")
        let stale = Set(Self.notExportable.keys).subtracting(declared)
        #expect(stale.isEmpty, "listed as not exportable but no longer declared: \(stale.sorted())")
    }

    /// The layers Keras actually gives ModelPort: the committed coverage models
    /// (tools/make_coverage_fixtures.py), which use every Keras layer it imports.
    @Test func everyLayerImportedFromKerasFixturesIsExportable() throws {
        let directory = TestPaths.fixtures.appendingPathComponent("coverage")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("cov_") && ($0.hasSuffix(".h5") || $0.hasSuffix(".keras")) && !$0.hasSuffix(".reference.h5") }
        #expect(!files.isEmpty, "no coverage fixtures in \(directory.path): run tools/make_coverage_fixtures.py")
        var missing = Set<String>()
        func check(_ model: any Model) {
            for layer in model.layers {
                if let nested = layer as? ModelLayer { check(nested.model); continue }
                guard let codec = ONNXCodecs.exporter(for: layer) else { missing.insert("\(type(of: layer))"); continue }
                #expect(codec.classNames.contains(layer.typeName), "\(type(of: layer)) codec does not list class name \(layer.typeName)")
            }
        }
        for file in files.sorted() {
            check(try ModelLoader.load(directory.appendingPathComponent(file).path).model)
        }
        #expect(missing.subtracting(Self.notExportable.keys).isEmpty, "Keras-imported layer types without an ONNX codec: \(missing.sorted())")
    }

    /// An exporter handed a layer of another type throws instead of crashing.
    @Test func aCodecGivenTheWrongTypeThrows() throws {
        guard let conv = ONNXCodecs.exporters[ObjectIdentifier(Conv2D.self)] else { Issue.record("no Conv2D codec"); return }
        let c = ONNXExportContext(opset: 17, file: "wrong.onnx")
        let value = ONNXValue(name: "x", kerasShape: [4], channelsFirst: false)
        #expect(throws: ONNXError.self) { try conv.export(Flatten(name: "flat"), [value], c) }
    }
}
