import Foundation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// Real graphs (tf2onnx conversions and ModelPort's own exports of the
/// coverage models and of the ONNX-only layers) with one attribute, one small integer constant or one
/// node's input list at a time set to the values that break arithmetic:
/// every variant imports or fails with an error naming the file, never traps.
struct AttributeSweepTests {
    static let extremes: [Int64] = [.min, -(1 << 40), -2, -1, 0, 1 << 31, 1 << 40, 1 << 62, .max]

    /// The graphs, and which of their operators to vary (nil: all). The
    /// tf2onnx conversion carries 65,000 weights, so only its shape
    /// arithmetic (Shape -> Gather -> Concat -> Reshape) is varied.
    static func graphs() throws -> [(String, ONNXModelProto, Set<String>?)] {
        let path = TestPaths.fixture("onnx/mnist_conv_pair.tf2onnx.onnx")
        var out: [(String, ONNXModelProto, Set<String>?)] = [
            ("mnist_conv_pair", try ONNXImporter.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path)))),
             ["Shape", "Gather", "Concat", "Reshape", "Slice", "Unsqueeze", "Squeeze", "Cast", "Transpose", "Flatten"]),
        ]
        for stem in ["cov_conv", "cov_merge", "cov_residual", "cov_dense"] {
            out.append((stem, try ONNXExporter.export(try ModelLoader.load(TestPaths.fixture("coverage/\(stem).h5")).model), nil))
        }
        // The ONNX-only layers (LRN, InstanceNormalization, LpNormalization, pooling, Pad, Resize, Conv and ConvTranspose beyond Keras's).
        for model in [try LayerCoverageTests.onnxOnlyModel(), try LayerCoverageTests.volumeModel()] {
            out.append((model.name, try ONNXExporter.export(model, options: ONNXExportOptions(opset: 20)), nil))
        }
        return out
    }

    /// Every single-point variant of `proto`, on nodes running `ops`.
    static func variants(_ proto: ONNXModelProto, ops: Set<String>?) -> [ONNXModelProto] {
        var out: [ONNXModelProto] = []
        for (n, node) in proto.graph.nodes.enumerated() where ops?.contains(node.opType) ?? true {
            for (k, attribute) in node.attributes.enumerated() {
                var values: [ONNXAttribute.Value] = []
                switch attribute.value {
                case .int: values = extremes.map { .int($0) }
                case .ints(let list):
                    values = [.ints([])] + extremes.flatMap { e in
                        [.ints([e]), .ints([Int64](repeating: e, count: max(list.count, 2))), .ints([Int64](repeating: e, count: 8))]
                    }
                case .float: values = [.float(.nan), .float(.infinity), .float(-.greatestFiniteMagnitude)]
                default: break
                }
                for value in values {
                    var copy = proto
                    copy.graph.nodes[n].attributes[k].value = value
                    out.append(copy)
                }
            }
            // Inputs dropped from the end, or an extra one.
            for count in 0..<node.inputs.count {
                var copy = proto
                copy.graph.nodes[n].inputs = Array(node.inputs.prefix(count))
                out.append(copy)
            }
            var extra = proto
            extra.graph.nodes[n].inputs.append(node.inputs.first ?? "x")
            out.append(extra)
        }
        // Small integer constants (shapes, axes, pads) with one value replaced.
        let read = Set(proto.graph.nodes.filter { ops?.contains($0.opType) ?? true }.flatMap(\.inputs))
        for (i, tensor) in proto.graph.initializers.enumerated() where tensor.dataType == 7 && tensor.dims.reduce(1, *) <= 8 && read.contains(tensor.name) {
            let count = Int(tensor.dims.reduce(1, *))
            for position in 0..<count {
                for e in extremes {
                    var values = tensor.rawData.map { raw in
                        raw.withUnsafeBytes { b in (0..<count).map { b.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
                    } ?? tensor.int64Data
                    guard values.count == count else { continue }
                    values[position] = e
                    var copy = proto
                    copy.graph.initializers[i] = ONNXTensorProto(name: tensor.name, shape: tensor.dims.map { Int($0) }, int64s: values)
                    out.append(copy)
                }
            }
        }
        return out
    }

    @Test func extremeValuesNeverTrap() throws {
        var imported = 0, refused = 0
        for (stem, proto, ops) in try Self.graphs() {
            for variant in Self.variants(proto, ops: ops) {
                do {
                    _ = try ONNXImporter.buildModel(variant, file: stem)
                    imported += 1
                } catch let error as ONNXError {
                    #expect(error.file == stem)
                    refused += 1
                }
            }
        }
        // Most variants are refused; the sweep must actually have run.
        #expect(refused > 500, "\(imported) imported, \(refused) refused")
    }
}
